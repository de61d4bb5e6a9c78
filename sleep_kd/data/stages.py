"""The sleep-stage vocabulary: one set of codes, the label spellings we accept, and class mappings.

Stages are stored with their original resolution (R&K's N3 and N4 stay apart) and mapped to
training classes only when a model asks for them, so one cohort file serves 3- and 4-class runs.

Examples
--------
>>> parse_stage("Sleep stage 4")
<Stage.N4: 4>
>>> to_classes(np.array([0, 1, 3, 4, 5, -2]), 4).tolist()
[0, 1, 2, 2, 3, -1]
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from sleep_kd.errors import InputError


class Stage(IntEnum):
    """Stage codes as stored in a cohort file (``epochs/stage``, int8)."""

    W = 0
    N1 = 1
    N2 = 2
    N3 = 3
    N4 = 4  # R&K stage 4; AASM folds it into N3
    R = 5
    MOVEMENT = -1
    UNSCORED = -2


# Spellings after lower-casing and stripping a "sleep stage" prefix. EDF+ (Sleep-EDF, MASS) writes
# "Sleep stage 1".."4", HMC and newer AASM exports write "Sleep stage N1".."N3".
_SPELLINGS: dict[str, Stage] = {
    "w": Stage.W, "wake": Stage.W, "0": Stage.W,
    "1": Stage.N1, "n1": Stage.N1, "s1": Stage.N1,
    "2": Stage.N2, "n2": Stage.N2, "s2": Stage.N2,
    "3": Stage.N3, "n3": Stage.N3, "s3": Stage.N3,
    "4": Stage.N4, "n4": Stage.N4, "s4": Stage.N4,
    "r": Stage.R, "rem": Stage.R, "5": Stage.R,
    "?": Stage.UNSCORED, "unscored": Stage.UNSCORED, "unknown": Stage.UNSCORED,
    "movement time": Stage.MOVEMENT, "movement": Stage.MOVEMENT, "mt": Stage.MOVEMENT,
    "m": Stage.MOVEMENT, "-1": Stage.MOVEMENT, "-2": Stage.UNSCORED,
}
_PREFIX = "sleep stage"

_CLASS_NAMES = {3: ("W", "NREM", "REM"), 4: ("W", "Light", "Deep", "REM")}
# Lookup tables indexed by stage code + 2 (so UNSCORED=-2 lands on 0).
_CLASS_TABLES = {
    3: np.array([-1, -1, 0, 1, 1, 1, 1, 2], dtype=np.int64),
    4: np.array([-1, -1, 0, 1, 1, 2, 2, 3], dtype=np.int64),
}


def _normalise(label: str) -> str:
    text = " ".join(str(label).strip().lower().split())
    if text.startswith(_PREFIX):
        text = text[len(_PREFIX):].strip()
    return text


def is_stage_label(label: str) -> bool:
    """True if ``label`` claims to be a stage (so an unknown one is an error, not an event).

    Annotation files mix stages with events such as ``Lights off`` or arousals; those are not
    stages and are skipped by readers. A ``Sleep stage ...`` label is always treated as a stage.
    """
    text = " ".join(str(label).strip().lower().split())
    return text.startswith(_PREFIX) or _normalise(label) in _SPELLINGS


def parse_stage(label: str) -> Stage:
    """Map one stage label (EDF+, MASS, Sleep-EDF, HMC or bare spellings) to a :class:`Stage`.

    Raises
    ------
    InputError
        If the label is not a known stage spelling.
    """
    stage = _SPELLINGS.get(_normalise(label))
    if stage is None:
        raise InputError(
            f"unknown sleep stage label {str(label)!r}: expected W, N1, N2, N3, N4 (or 1-4), R/REM, "
            "? or Movement time"
        )
    return stage


def _check_n_classes(n_classes: int) -> None:
    if n_classes not in _CLASS_NAMES:
        raise InputError(f"n_classes={n_classes!r} is not supported: expected 3 or 4")


def to_classes(stages: np.ndarray, n_classes: int) -> np.ndarray:
    """Map stage codes to training classes; -1 marks epochs to drop (movement, unscored).

    Parameters
    ----------
    stages : np.ndarray of int, shape (n_epochs,)
        :class:`Stage` codes.
    n_classes : {3, 4}
        3: W, NREM (N1-N4), REM. 4: W, Light (N1, N2), Deep (N3, N4), REM.

    Returns
    -------
    np.ndarray of int64, shape (n_epochs,)
    """
    _check_n_classes(n_classes)
    codes = np.asarray(stages, dtype=np.int64)
    if codes.size and (codes.min() < int(Stage.UNSCORED) or codes.max() > int(Stage.R)):
        raise InputError(f"stage codes must lie in -2..5, got {codes.min()}..{codes.max()}")
    return _CLASS_TABLES[n_classes][codes + 2]


def class_names(n_classes: int) -> tuple[str, ...]:
    """Names of the training classes, in class-index order."""
    _check_n_classes(n_classes)
    return _CLASS_NAMES[n_classes]
