"""Fixtures for the synthetic cohort tests: one small cohort on disk, a few nights in memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sleep_kd.data.synthetic import generate_cohort, plan_night, simulate_night

SEED = 11
HOURS = 0.5
N_SUBJECTS = 7  # index 6 is the second SS2 night, the one with only C4/A1


@pytest.fixture(scope="session")
def cohort(tmp_path_factory) -> tuple[Path, dict]:
    """A 7-night, half-hour cohort at the default 256 Hz and its cohort.json."""
    out = tmp_path_factory.mktemp("cohort")
    generate_cohort(out, n_subjects=N_SUBJECTS, hours=HOURS, seed=SEED)
    return out, json.loads((out / "cohort.json").read_text())


@pytest.fixture(scope="session")
def nights():
    """Three 3.5-hour nights (SS1, SS3, SS4) simulated in memory at 128 Hz."""
    return [simulate_night(plan_night(i), seed=5, hours=3.5, sfreq=128.0) for i in (0, 2, 3)]
