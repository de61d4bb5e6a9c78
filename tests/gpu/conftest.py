"""The CUDA checks: tests marked ``cuda`` skip without a GPU; a small cohort built without MNE or edfio.

``python -m bench.gpu`` runs ``pytest -m cuda tests/gpu`` on a GPU machine; it passes the cohort it built
in ``SLEEP_KD_GPU_COHORT`` (else one is built here) and collects the figures the tests record
(``checks.record_figure``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

COHORT_ENV = "SLEEP_KD_GPU_COHORT"
# The tiny U-Time of tests/gpu/checks.py and the context tests' tiny context model (T = 8).
TINY_MODEL = "model.overrides={filters: [4, 8], pool_sizes: [10, 6], bottleneck_filters: 16}"
TINY_CONTEXT = ("model.overrides={filters: [4, 8], pool_sizes: [10, 6], bottleneck_filters: 16, "
                "sequence_width: 8, sequence_layers: 2}")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` are skipped, saying why, where no CUDA device is present."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (run python -m bench.gpu --out DIR on one)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def gpu_cohort(tmp_path_factory) -> Path:
    """10 synthetic nights x 0.5 h at 100 Hz (pooled split 8 / 1 / 1), or the one ``SLEEP_KD_GPU_COHORT`` names."""
    given = os.environ.get(COHORT_ENV)
    if given and Path(given).is_file():
        return Path(given)
    from bench.gpu_cohort import write_cohort

    return write_cohort(tmp_path_factory.mktemp("gpu-cohort") / "gpu.h5", n_subjects=10, hours=0.5, sfreq=100.0)


def train_args(cohort: Path, runs: Path, *extra: str, device: str = "cuda", batch_size: int = 16) -> list[str]:
    """train_loop.py arguments for a few steps of the tiny U-Time (``device="cpu"`` adds ``--cpu``)."""
    return ["--data", str(cohort), "--runs", str(runs), "--batch-size", str(batch_size), "--epochs", "1",
            "--set", TINY_MODEL, "--set", "train.log_every=1", *(["--cpu"] if device == "cpu" else []), *extra]


def context_args(cohort: Path, runs: Path, *extra: str, device: str = "cuda") -> list[str]:
    """train_loop.py arguments for a few steps of the tiny context model (context_small, T = 8)."""
    return ["--data", str(cohort), "--runs", str(runs), "--batch-size", "16", "--epochs", "1",
            "--model", "context_small", "--set", "model.context_epochs=8", "--set", TINY_CONTEXT,
            "--set", "train.log_every=1", *(["--cpu"] if device == "cpu" else []), *extra]


@pytest.fixture
def restore_backends():
    """Put back the global backend flags a run sets (deterministic algorithms, cudnn, TF32)."""
    saved = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark,
             torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    yield
    torch.use_deterministic_algorithms(saved[0])
    (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) = saved[1:]
