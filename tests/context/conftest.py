"""A tiny cohort and a tiny context model shared by the context tests."""

from pathlib import Path

import pytest

from tests.engine.conftest import tiny_cohort  # noqa: F401  (the same 10 x 0.5 h cohort)

TINY_CONTEXT = ("model.overrides={filters: [4, 8], pool_sizes: [10, 6], bottleneck_filters: 16, "
                "sequence_width: 8, sequence_layers: 2}")


def _context_args(cohort: Path, runs: Path, *extra: str) -> list[str]:
    return ["--data", str(cohort), "--runs", str(runs), "--cpu", "--batch-size", "16", "--epochs", "1",
            "--model", "context_small", "--set", "model.context_epochs=8", "--set", TINY_CONTEXT,
            "--set", "train.log_every=1", *extra]


@pytest.fixture(scope="session")
def context_args():
    """``context_args(cohort, runs, *extra)``: train_loop.py arguments for the tiny context model (T = 8)."""
    return _context_args


@pytest.fixture(scope="session")
def six_nights(tmp_path_factory):
    """6 subjects x 0.5 h ingested at 100 Hz: three folds of two subjects (the study scripts' tests).

    Both studies' tests only read it (each writes its runs elsewhere), so one cohort serves them.
    """
    from sleep_kd.data.ingest import ingest
    from sleep_kd.data.synthetic import generate_cohort

    root = tmp_path_factory.mktemp("six")
    generate_cohort(root / "edf", n_subjects=6, hours=0.5, seed=3, sfreq=128.0)
    ingest("mass", root / "edf", root / "six.h5", sfreq=100.0, workers=1, progress=False)
    return root / "six.h5"
