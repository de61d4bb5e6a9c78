"""The sleep-stage vocabulary: one set of codes, the label spellings we accept, and class mappings.

Stages are stored with their original resolution (R&K's N3 and N4 stay apart) and mapped to
training classes only when a model asks for them, so one cohort file serves 3- and 4-class runs.

Word labels (``W``, ``N2``, ``Sleep stage 2``, ``REM``) say what they mean. Bare numbers do not:
datasets write stages with opposite conventions (0 = W ... 5 = REM, or 5 = W ... 0 = stage 4), so a
numeric label is read only through a named :func:`stage_code_map` and refused otherwise.

Examples
--------
>>> parse_stage("Sleep stage 4")
<Stage.N4: 4>
>>> parse_stage("5", codes=stage_code_map("reverse"))
<Stage.W: 0>
>>> to_classes(np.array([0, 1, 3, 4, 5, -2]), 4).tolist()
[0, 1, 2, 2, 3, -1]
"""

from __future__ import annotations

from enum import IntEnum

import re

import numpy as np

from sleep_kd.errors import InputError


# Training labels besides the class indices 0..n_classes-1 (``labels`` of the datasets, ``targets`` of
# the loss terms): an epoch no term counts (padding, movement, an unscored epoch of a scored night),
# and an epoch of a night nobody scored, which the terms that need only a teacher (``sd``'s KL,
# ``at``) see and the terms that need a stage (``ce``, ``wce``, ``sd``'s CE) do not.
IGNORED = -1
UNSCORED_NIGHT = -2


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


# Word spellings after lower-casing and stripping a "sleep stage" prefix. EDF+ (Sleep-EDF, MASS)
# writes "Sleep stage 1".."4", HMC and newer AASM exports write "Sleep stage N1".."N3".
_SPELLINGS: dict[str, Stage] = {
    "w": Stage.W, "wake": Stage.W,
    "n1": Stage.N1, "s1": Stage.N1,
    "n2": Stage.N2, "s2": Stage.N2,
    "n3": Stage.N3, "s3": Stage.N3,
    "n4": Stage.N4, "s4": Stage.N4,
    "r": Stage.R, "rem": Stage.R,
    "?": Stage.UNSCORED, "unscored": Stage.UNSCORED, "unknown": Stage.UNSCORED, "u": Stage.UNSCORED,
    "movement time": Stage.MOVEMENT, "movement": Stage.MOVEMENT, "mt": Stage.MOVEMENT, "m": Stage.MOVEMENT,
}
# After the "Sleep stage" prefix a digit is R&K's stage number (EDF+ "Sleep stage 1".."4"): not a code.
_PREFIXED_DIGITS = {"1": Stage.N1, "2": Stage.N2, "3": Stage.N3, "4": Stage.N4}
_PREFIX = "sleep stage"
_NUMBER = re.compile(r"[+-]?\d+(\.0*)?")

# Built-in numeric conventions for --stage-codes NAME ("code=label", labels as in _SPELLINGS).
STAGE_CODE_MAPS: dict[str, str] = {
    # R&K numbering with 6/7/9 for movement and unscored (NSRR exports, many PSG systems).
    "rk": "0=W,1=N1,2=N2,3=N3,4=N4,5=R,6=M,7=?,9=?",
    # AASM numbering without stage 4 (YASA, sleepecg): REM is 4; -1 artefact and -2 unscored.
    "aasm": "0=W,1=N1,2=N2,3=N3,4=R,-1=?,-2=?",
    # The reverse convention (e.g. the DREAMS databases): 5 = W down to 0 = stage 4.
    "reverse": "5=W,4=R,3=N1,2=N2,1=N3,0=N4,-1=M,-2=?,-3=?",
}

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


def is_numeric_code(label: str) -> bool:
    """True for a bare number such as ``"3"``, ``"-1"`` or ``"2.0"`` (meaningless without a code map)."""
    return bool(_NUMBER.fullmatch(str(label).strip()))


def is_stage_label(label: str) -> bool:
    """True if ``label`` claims to be a stage (so an unknown one is an error, not an event).

    Annotation files mix stages with events such as ``Lights off`` or arousals; those are not
    stages and are skipped by readers. A label holding the word ``stage`` (``Sleep stage 2``,
    ``Sleep_stage_W``, ``Stage N2``) and a bare number are always treated as stages: one we cannot
    read is refused, never skipped (a number without a code map too).

    >>> [is_stage_label(x) for x in ("Sleep stage W", "Stage 2 sleep", "sleep_stage_R", "Lights off", "7")]
    [True, True, True, False, True]
    """
    words = re.split(r"[^a-z0-9?]+", str(label).strip().lower())
    return "stage" in words or _normalise(label) in _SPELLINGS or is_numeric_code(label)


def stage_code_map(spec: str) -> dict[int, Stage]:
    """The numeric code map named ``spec`` (``rk``, ``aasm``, ``reverse``) or written ``"5=W,4=R,..."``.

    Raises
    ------
    InputError
        A malformed item, a code given twice, or a label that is not a word stage label.
    """
    text = STAGE_CODE_MAPS.get(str(spec).strip().lower(), str(spec))
    codes: dict[int, Stage] = {}
    for item in (part.strip() for part in text.split(",")):
        code, _, label = item.partition("=")
        if not is_numeric_code(code) or not label.strip() or is_numeric_code(label):
            raise InputError(f"--stage-codes {spec!r}: item {item!r} is not CODE=LABEL (e.g. 5=W); built-in "
                             f"names: {', '.join(sorted(STAGE_CODE_MAPS))}")
        number = int(float(code))
        if number in codes:
            raise InputError(f"--stage-codes {spec!r}: code {number} is given twice")
        stage = _SPELLINGS.get(_normalise(label))
        if stage is None:
            raise InputError(f"--stage-codes {spec!r}: {label.strip()!r} is not a stage (expected W, N1, N2, "
                             "N3, N4, R, M or ?)")
        codes[number] = stage
    return codes


def numeric_codes_refusal(codes_found, *, source: str) -> InputError:
    """The one-line error for numeric stage codes read without a code map."""
    shown = ", ".join(str(c) for c in sorted(codes_found))
    return InputError(f"{source}: numeric stage codes ({shown}) need a code map: pass --stage-codes NAME "
                      f"({', '.join(sorted(STAGE_CODE_MAPS))}; see --help) or your own, e.g. "
                      "--stage-codes '0=W,1=N1,2=N2,3=N3,4=R'")


def parse_stage(label: str, *, codes: dict[int, Stage] | None = None) -> Stage:
    """Map one stage label (EDF+, MASS, Sleep-EDF, HMC or bare spellings) to a :class:`Stage`.

    Parameters
    ----------
    label : str
    codes : dict, optional
        Code map (:func:`stage_code_map`) for numeric labels; without one they are refused.

    Raises
    ------
    InputError
        If the label is not a known stage spelling, or is a number outside ``codes`` (or no map).
    """
    if is_numeric_code(label):
        number = int(float(str(label).strip()))
        if codes is None:
            raise numeric_codes_refusal([number], source="stage label")
        if number not in codes:
            known = ", ".join(str(c) for c in sorted(codes))
            raise InputError(f"stage code {number} is not in the code map (codes {known})")
        return codes[number]
    text = _normalise(label)
    stage = _SPELLINGS.get(text)
    if stage is None and " ".join(str(label).strip().lower().split()).startswith(_PREFIX):
        stage = _PREFIXED_DIGITS.get(text)
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
