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
