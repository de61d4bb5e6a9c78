"""The generator's truth files: ``truth/<id>.csv`` beside a synthetic cohort, written and read here.

One row per scored epoch: ``onset_s, duration_s, true_stage, scored_stage``. Stages are written
as the EDF annotations write them after ``Sleep stage `` (``W``, ``1``-``4``, ``R``, ``?``), so
the digits are R&K stage numbers; readers go through :func:`read_truth`, which says so to the
stage parser (a bare number is refused without a code map anywhere else).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sleep_kd.data.stages import parse_stage, stage_code_map, to_classes
from sleep_kd.errors import InputError

from .stages import LABELS

COLUMNS = ("onset_s", "duration_s", "true_stage", "scored_stage")
_RK = stage_code_map("rk")


@dataclass(frozen=True)
class Truth:
    """One recording's truth file: onsets (s, from the recording's own start), stage codes (int8)."""

    onset_s: np.ndarray  # (n_epochs,) float64
    true: np.ndarray  # (n_epochs,) int8, sleep_kd.data.stages.Stage codes
    scored: np.ndarray  # (n_epochs,) int8


def write_truth(path: Path, *, onsets, epoch_s: float, true_labels, scored_labels) -> None:
    """Write one truth file; ``*_labels`` are label codes of :data:`.stages.LABELS`."""
    with path.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(COLUMNS)
        for onset, t, s in zip(onsets, true_labels, scored_labels):
            out.writerow([f"{onset:.2f}", f"{epoch_s:g}", LABELS[t], LABELS[s]])


def read_truth(path: Path) -> Truth:
    """Read one truth file (see the module docstring for its stage spelling)."""
    with Path(path).open() as f:
        rows = list(csv.DictReader(f))

    def stages(column: str) -> np.ndarray:
        return np.array([int(parse_stage(r[column], codes=_RK)) for r in rows], dtype=np.int8)
    return Truth(np.array([float(r["onset_s"]) for r in rows]), stages("true_stage"), stages("scored_stage"))


def read_true_classes(truth_dir: str | Path, recording_id: str, *, scored_stage: np.ndarray,
                      n_classes: int) -> np.ndarray:
    """True class of each epoch of one recording: (n_epochs,) int64, -1 where the truth is not a class.

    Parameters
    ----------
    scored_stage : the cohort file's stage codes of the recording's epochs (n_epochs,), which the
        truth file's ``scored_stage`` column must equal.

    InputError, naming the file, when it is missing, has another number of epochs or other scored stages.
    """
    path = Path(truth_dir) / f"{recording_id}.csv"
    if not path.is_file():
        raise InputError(f"{truth_dir}: no truth file for recording {recording_id!r} (pass --truth DIR)")
    truth = read_truth(path)
    if len(truth.true) != len(scored_stage):
        raise InputError(f"{path}: {len(truth.true)} truth epochs, expected {len(scored_stage)} as in the cohort file")
    if not np.array_equal(truth.scored, np.asarray(scored_stage, dtype=truth.scored.dtype)):
        raise InputError(f"{path}: scored stages differ from the cohort file's (not this cohort's truth?)")
    return to_classes(truth.true, n_classes).astype(np.int64)
