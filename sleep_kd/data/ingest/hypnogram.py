"""Hypnograms: stage annotations read from EDF+ files or CSV/text, checked and cut into epochs.

An :class:`EpochTable` holds one row per scoring epoch (onset and duration in seconds, a
:class:`~sleep_kd.data.stages.Stage` code). Annotations that span several epochs (Sleep-EDF writes
one annotation per run of equal stages) are split into epochs of the scoring length.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from sleep_kd.data.cohort_file import EpochTable
from sleep_kd.data.stages import is_stage_label, parse_stage
from sleep_kd.errors import InputError

# Onsets are written with a few decimals in EDF+ TALs: tolerate that much disagreement (seconds).
TIME_TOLERANCE_S = 1e-3


def _mode_duration(durations: np.ndarray) -> float:
    values, counts = np.unique(np.round(durations, 3), return_counts=True)
    return float(values[np.argmax(counts)])


def build_epochs(
    onsets, durations, labels, *, source: str, epoch_s: float | None = None
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
    epoch_s : float, optional
        Scoring epoch length in seconds; by default the most common annotation duration.

    Raises
    ------
    InputError
        Empty hypnogram, unknown label, out-of-order or overlapping annotations, a duration that
        is not a whole number of epochs.
    """
    onsets = np.asarray(onsets, dtype=np.float64)
    durations = np.asarray(durations, dtype=np.float64)
    if onsets.size == 0:
        raise InputError(f"{source}: the hypnogram holds no sleep stage annotations")
    codes = np.array([int(_parse_stage_in(label, onset, source)) for label, onset in zip(labels, onsets)],
                     dtype=np.int8)
    _check_order(onsets, durations, source=source)
    if epoch_s is None:
        epoch_s = _mode_duration(durations)
    if epoch_s <= 0:
        raise InputError(f"{source}: stage annotations have no duration; expected e.g. 30 s epochs")
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


def _parse_stage_in(label: str, onset: float, source: str):
    """:func:`parse_stage`, with the file and the annotation's onset named in the error."""
    try:
        return parse_stage(label)
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


def read_annotation_stages(path: Path, *, epoch_s: float | None = None) -> EpochTable:
    """Read the stage annotations of an EDF+ file (events that are not stages are ignored).

    Onsets are seconds from the start written in that file's header.
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
    )


def read_text_stages(path: Path, *, epoch_s: float = 30.0) -> EpochTable:
    """Read a CSV/text hypnogram.

    Two layouts: one stage label per line (consecutive epochs of ``epoch_s`` seconds from 0), or a
    CSV with a header containing ``onset``, ``duration`` and ``stage`` columns (seconds).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path.name}: cannot read hypnogram text ({_first_line(error)})") from None
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        raise InputError(f"{path.name}: the hypnogram is empty")
    header = [cell.strip().lower() for cell in next(csv.reader([lines[0]]))]
    if {"onset", "duration", "stage"} <= set(header):
        return _read_table(lines, header, path=path, epoch_s=epoch_s)
    if len(header) > 1:
        raise InputError(
            f"{path.name}: expected one stage per line or a CSV header with onset,duration,stage; "
            f"got columns {','.join(header)}"
        )
    onsets = np.arange(len(lines), dtype=np.float64) * epoch_s
    return build_epochs(onsets, np.full(len(lines), epoch_s), lines, source=path.name, epoch_s=epoch_s)


def _read_table(lines: list[str], header: list[str], *, path: Path, epoch_s: float) -> EpochTable:
    columns = {name: header.index(name) for name in ("onset", "duration", "stage")}
    onsets, durations, labels = [], [], []
    for number, row in enumerate(csv.reader(lines[1:]), start=2):
        try:
            onsets.append(float(row[columns["onset"]]))
            durations.append(float(row[columns["duration"]]))
            labels.append(row[columns["stage"]].strip())
        except (IndexError, ValueError):
            raise InputError(f"{path.name}: line {number} is not onset,duration,stage numbers") from None
    return build_epochs(onsets, durations, labels, source=path.name, epoch_s=epoch_s)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
