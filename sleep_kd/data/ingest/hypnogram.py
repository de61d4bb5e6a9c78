"""Hypnograms: stage annotations read from EDF+ files or CSV/text, checked and cut into epochs.

An :class:`EpochTable` holds one row per scoring epoch (onset and duration in seconds, a
:class:`~sleep_kd.data.stages.Stage` code). Annotations that span several epochs (Sleep-EDF writes
one annotation per run of equal stages) are split into epochs of the scoring length, which the
file declares or the user gives (never inferred from the annotations' durations). Every label that
claims to be a stage is read or refused, never dropped.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from sleep_kd.data.cohort_file import EpochTable
from sleep_kd.data.stages import Stage, is_numeric_code, is_stage_label, numeric_codes_refusal, parse_stage
from sleep_kd.errors import InputError

# Onsets are written with a few decimals in EDF+ TALs: tolerate that much disagreement (seconds).
TIME_TOLERANCE_S = 1e-3


def build_epochs(
    onsets, durations, labels, *, source: str, epoch_s: float, codes: dict[int, Stage] | None = None,
) -> EpochTable:
    """Turn stage annotations into an :class:`EpochTable`, checking order and overlap.

    Parameters
    ----------
    onsets, durations : sequence of float, seconds
        One per annotation, in file order.
    labels : sequence of str
        Stage labels; labels that are not stages (``Lights off``...) must be removed before.
    source : str
        File name used in error messages.
    epoch_s : float
        Scoring epoch length in seconds, as the file declares it or the user gives it: never
        inferred from the annotations' durations (runs of equal stages would make it any multiple).
    codes : dict, optional
        Numeric code map (:func:`sleep_kd.data.stages.stage_code_map`); numeric labels without
        one are refused, listing every code found.

    Raises
    ------
    InputError
        Empty hypnogram, unknown label, numeric labels without a code map, out-of-order or
        overlapping annotations, a duration that is not a whole number of epochs.
    """
    onsets = np.asarray(onsets, dtype=np.float64)
    durations = np.asarray(durations, dtype=np.float64)
    if onsets.size == 0:
        raise InputError(f"{source}: the hypnogram holds no sleep stage annotations")
    numeric = {int(float(label)) for label in labels if is_numeric_code(label)}
    if numeric and codes is None:
        raise numeric_codes_refusal(numeric, source=source)
    codes = np.array([int(_parse_stage_in(label, onset, source, codes)) for label, onset in zip(labels, onsets)],
                     dtype=np.int8)
    _check_order(onsets, durations, source=source)
    if not epoch_s > 0:
        raise InputError(f"{source}: the scoring epoch must be a positive number of seconds, got {epoch_s!r}")
    counts = np.round(durations / epoch_s).astype(np.int64)
    bad = np.flatnonzero((counts < 1) | (np.abs(counts * epoch_s - durations) > TIME_TOLERANCE_S))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"{source}: annotation at {onsets[i]:g} s lasts {durations[i]:g} s, "
            f"not a whole number of {epoch_s:g} s epochs"
        )
    first = np.repeat(onsets, counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return EpochTable(
        onset=first + within * epoch_s,
        duration=np.full(first.size, epoch_s, dtype=np.float64),
        stage=np.repeat(codes, counts),
    )


def _parse_stage_in(label: str, onset: float, source: str, codes):
    """:func:`parse_stage`, with the file and the annotation's onset named in the error."""
    try:
        return parse_stage(label, codes=codes)
    except InputError as error:
        raise InputError(f"{source}: annotation at {onset:g} s: {error}") from None


def _check_order(onsets: np.ndarray, durations: np.ndarray, *, source: str) -> None:
    if np.any(durations < 0) or np.any(~np.isfinite(onsets)):
        raise InputError(f"{source}: stage annotations with a negative duration or bad onset")
    step = np.diff(onsets)
    if np.any(step < 0):
        i = int(np.flatnonzero(step < 0)[0])
        raise InputError(
            f"{source}: stage annotations out of order (onset {onsets[i + 1]:g} s after {onsets[i]:g} s)"
        )
    overlap = onsets[:-1] + durations[:-1] - onsets[1:] > TIME_TOLERANCE_S
    if np.any(overlap):
        i = int(np.flatnonzero(overlap)[0])
        raise InputError(
            f"{source}: stage annotations overlap (the one at {onsets[i]:g} s lasts {durations[i]:g} s "
            f"but the next starts at {onsets[i + 1]:g} s)"
        )


def read_annotation_stages(path: Path, *, epoch_s: float, codes: dict[int, Stage] | None = None) -> EpochTable:
    """Read the stage annotations of an EDF+ file, in scoring epochs of ``epoch_s`` seconds.

    Events that are not stages (``Lights off``, arousals) are ignored; every label that claims to be
    a stage (:func:`~sleep_kd.data.stages.is_stage_label`) is read or refused. Onsets are seconds
    from the start written in that file's header; numeric labels need ``codes``.
    """
    import mne

    try:
        annotations = mne.read_annotations(str(path))
    except Exception as error:  # MNE raises several types for a file it cannot parse
        raise InputError(f"{path.name}: cannot read EDF+ annotations ({_first_line(error)})") from None
    # MNE appends "@@<channel>" to channel-bound annotations (HMC "Lights off@@EEG F4-A1").
    labels = [str(d).split("@@")[0] for d in annotations.description]
    keep = [i for i, label in enumerate(labels) if is_stage_label(label)]
    return build_epochs(
        annotations.onset[keep],
        annotations.duration[keep],
        [labels[i] for i in keep],
        source=path.name,
        epoch_s=epoch_s,
        codes=codes,
    )


def read_text_stages(path: Path, *, line_s: float | None, scoring_epoch_s: float | None = None,
                     codes: dict[int, Stage] | None = None, line_flag: str = "--epoch-s") -> EpochTable:
    """Read a CSV/text hypnogram.

    Two layouts: one stage label per line (consecutive lines ``line_s`` seconds apart from 0,
    after an optional one-line bracketed header such as ``[Hypnogram]``), or a CSV with a header
    containing ``onset``, ``duration`` and ``stage`` columns (seconds), in scoring epochs of
    ``scoring_epoch_s`` (else ``line_s``) seconds. ``scoring_epoch_s`` is the scoring epoch when the
    lines are written at a finer step (one line per 5 s for 30 s epochs): each epoch's lines are
    merged when they agree and refused, naming the line, when they do not. Numeric labels need
    ``codes`` (:func:`sleep_kd.data.stages.stage_code_map`).

    A file of one stage per line says nothing of its step: without ``line_s`` it is refused, never
    read at a guessed step (``line_flag`` names the option that gives it in the message).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path.name}: cannot read hypnogram text ({_first_line(error)})") from None
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.startswith("#")]
    if lines and lines[0][1].startswith("[") and lines[0][1].endswith("]"):
        lines = lines[1:]  # a section header such as [Hypnogram]
    if not lines:
        raise InputError(f"{path.name}: the hypnogram is empty")
    header = [cell.strip().lower() for cell in next(csv.reader([lines[0][1]]))]
    if {"onset", "duration", "stage"} <= set(header):
        epoch_s = scoring_epoch_s or line_s
        if epoch_s is None:
            raise InputError(f"{path.name}: the scoring epoch of its onset,duration,stage rows is not given")
        return _read_table([line for _, line in lines], header, path=path, epoch_s=epoch_s, codes=codes)
    if len(header) > 1:
        raise InputError(
            f"{path.name}: expected one stage per line or a CSV header with onset,duration,stage; "
            f"got columns {','.join(header)}"
        )
    if line_s is None:
        raise InputError(f"{path.name}: one stage per line, and the seconds between lines are not given: "
                         f"pass {line_flag} SECONDS (the step is never guessed)")
    epoch_s = line_s
    if scoring_epoch_s and abs(scoring_epoch_s - line_s) > TIME_TOLERANCE_S:
        lines, epoch_s = _merge_lines(lines, line_s=line_s, scoring_epoch_s=scoring_epoch_s, path=path,
                                      line_flag=line_flag)
    labels = [line for _, line in lines]
    onsets = np.arange(len(labels), dtype=np.float64) * epoch_s
    return build_epochs(onsets, np.full(len(labels), epoch_s), labels, source=path.name, epoch_s=epoch_s,
                        codes=codes)


def _merge_lines(lines, *, line_s: float, scoring_epoch_s: float, path: Path, line_flag: str):
    """Group one-per-line labels ``line_s`` apart into epochs of ``scoring_epoch_s``: (lines, epoch_s).

    Every line is read: lines that disagree inside an epoch, or a last group shorter than an epoch,
    are refused naming the lines (never dropped).
    """
    per_epoch = int(round(scoring_epoch_s / line_s))
    if per_epoch < 1 or abs(per_epoch * line_s - scoring_epoch_s) > TIME_TOLERANCE_S:
        raise InputError(f"{path.name}: the scoring epoch ({scoring_epoch_s:g} s) is not a whole number of "
                         f"hypnogram lines of {line_s:g} s ({line_flag})")
    left = len(lines) % per_epoch
    if left:
        raise InputError(f"{path.name}: its last {left} line(s) (from line {lines[-left][0]}) make {left * line_s:g} s, "
                         f"not a whole {scoring_epoch_s:g} s scoring epoch of {line_s:g} s lines; "
                         "remove them or check the steps given")
    merged = []
    for first in range(0, len(lines), per_epoch):
        group = lines[first:first + per_epoch]
        label = " ".join(group[0][1].lower().split())
        for number, other in group[1:]:
            if " ".join(other.lower().split()) != label:
                raise InputError(
                    f"{path.name}: line {number} ({other!r}) disagrees with line {group[0][0]} ({group[0][1]!r}) "
                    f"inside the {scoring_epoch_s:g} s scoring epoch at {first * line_s:g} s")
        merged.append(group[0])
    return merged, scoring_epoch_s


def _read_table(lines: list[str], header: list[str], *, path: Path, epoch_s: float, codes) -> EpochTable:
    columns = {name: header.index(name) for name in ("onset", "duration", "stage")}
    onsets, durations, labels = [], [], []
    for number, row in enumerate(csv.reader(lines[1:]), start=2):
        try:
            onsets.append(float(row[columns["onset"]]))
            durations.append(float(row[columns["duration"]]))
            labels.append(row[columns["stage"]].strip())
        except (IndexError, ValueError):
            raise InputError(f"{path.name}: line {number} is not onset,duration,stage numbers") from None
    return build_epochs(onsets, durations, labels, source=path.name, epoch_s=epoch_s, codes=codes)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
