"""A tiny cohort and tiny-model options shared by the training tests."""

from pathlib import Path

import pytest

TINY_MODEL = "model.overrides={filters: [4, 8], pool_sizes: [10, 6], bottleneck_filters: 16}"


@pytest.fixture(scope="session")
def tiny_cohort(tmp_path_factory) -> Path:
    """10 synthetic subjects x 0.5 h, ingested at 100 Hz: pooled split 8 / 1 / 1 subjects."""
    from sleep_kd.data.ingest import ingest
    from sleep_kd.data.synthetic import generate_cohort

    root = tmp_path_factory.mktemp("tiny-cohort")
    generate_cohort(root / "edf", n_subjects=10, hours=0.5, seed=7, sfreq=128.0)
    ingest("mass", root / "edf", root / "tiny.h5", sfreq=100.0, workers=1, progress=False)
    return root / "tiny.h5"


def _train_args(cohort: Path, runs: Path, *extra: str) -> list[str]:
    return ["--data", str(cohort), "--runs", str(runs), "--cpu", "--batch-size", "16", "--epochs", "1",
            "--set", TINY_MODEL, "--set", "train.log_every=1", *extra]


@pytest.fixture(scope="session")
def train_args():
    """``train_args(cohort, runs, *extra)``: train_loop.py arguments for a fast CPU run of the tiny model."""
    return _train_args
