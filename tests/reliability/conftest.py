"""Shared pieces of the bad-input corpus: a tiny cohort, one short run, CLI helpers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TINY_MODEL = "model.overrides={filters: [4, 8], pool_sizes: [10, 6], bottleneck_filters: 16}"
TINY_OVERRIDES = dict(filters=[4, 8], pool_sizes=[10, 6], bottleneck_filters=16)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes): compare before and after a failed command."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def run_cli(main, argv, capsys) -> tuple[int, str, str]:
    """Call an entry point's ``main(argv)`` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def train_argv(cohort: Path, runs: Path, *extra) -> list[str]:
    """train_loop.py arguments for a one-step CPU run of a tiny model."""
    return ["--data", str(cohort), "--runs", str(runs), "--cpu", "--batch-size", "16", "--epochs", "1",
            "--max-steps", "1", "--set", TINY_MODEL, *map(str, extra)]


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory) -> Path:
    """10 synthetic subjects x 6 min, ingested at 100 Hz (pooled split 8 / 1 / 1): about 2 s to build."""
    from sleep_kd.data.ingest import ingest
    from sleep_kd.data.synthetic import generate_cohort

    root = tmp_path_factory.mktemp("small-cohort")
    generate_cohort(root / "edf", n_subjects=10, hours=0.1, seed=3, sfreq=128.0)
    ingest("mass", root / "edf", root / "small.h5", sfreq=100.0, workers=1, progress=False)
    shutil.rmtree(root / "edf")
    return root / "small.h5"


@pytest.fixture(scope="session")
def eeg_run(small_cohort, tmp_path_factory) -> Path:
    """A finished one-step eeg_base run folder (config.yaml, best/, last/, state/, tensorboard/)."""
    import train_loop

    runs = tmp_path_factory.mktemp("runs")
    out = runs / "eeg"
    assert train_loop.main(["--strategy", "eeg_base", *train_argv(small_cohort, runs, "--out", out)]) == 0
    return out
