"""Shared test fixtures: the real EDF files shipped in tests/data."""

from pathlib import Path

import pytest

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """Folder with the small real EDF files (see tests/data/README.md)."""
    return DATA_DIR
