"""A tiny cohort and a tiny context model shared by the context tests."""

from pathlib import Path

import pytest

TINY_CONTEXT = ("model.overrides={filters: [4, 8], pool_sizes: [10, 6], bottleneck_filters: 16, "
                "sequence_width: 8, sequence_layers: 2}")


@pytest.fixture(scope="session")
def tiny_cohort(tmp_path_factory) -> Path:
    """10 synthetic subjects x 0.5 h (60 epochs each), ingested at 100 Hz: pooled split 8 / 1 / 1 subjects."""
    from sleep_kd.data.ingest import ingest
    from sleep_kd.data.synthetic import generate_cohort

    root = tmp_path_factory.mktemp("tiny-cohort")
    generate_cohort(root / "edf", n_subjects=10, hours=0.5, seed=7, sfreq=128.0)
    ingest("mass", root / "edf", root / "tiny.h5", sfreq=100.0, workers=1, progress=False)
    return root / "tiny.h5"


def _context_args(cohort: Path, runs: Path, *extra: str) -> list[str]:
    return ["--data", str(cohort), "--runs", str(runs), "--cpu", "--batch-size", "16", "--epochs", "1",
            "--model", "context_small", "--set", "model.context_epochs=8", "--set", TINY_CONTEXT,
            "--set", "train.log_every=1", *extra]


@pytest.fixture(scope="session")
def context_args():
    """``context_args(cohort, runs, *extra)``: train_loop.py arguments for the tiny context model (T = 8)."""
    return _context_args
