"""Shared test fixtures: the real EDF files shipped in tests/data."""

from pathlib import Path

import pytest

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """Folder with the small real EDF files (see tests/data/README.md)."""
    return DATA_DIR


@pytest.fixture(autouse=True, scope="session")
def fp32_unless_asked():
    """Every run in the tests resolves ``mixed_precision: auto`` to fp32, on every CPU.

    The same test then computes the same numbers on an AVX2 laptop and on an AMX server; tests of
    bf16 ask for it explicitly, and tests of the ``auto`` choice patch the one check
    (``sleep_kd.hardware.cpu_runs_bf16_natively``) with this variable removed.
    """
    import os

    from sleep_kd.hardware import FORCE_ENV

    previous = os.environ.get(FORCE_ENV)
    os.environ[FORCE_ENV] = "0"  # inherited by the subprocesses the tests start
    yield
    if previous is None:
        os.environ.pop(FORCE_ENV, None)
    else:
        os.environ[FORCE_ENV] = previous
