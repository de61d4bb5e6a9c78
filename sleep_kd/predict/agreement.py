"""A night's scored hypnogram, aligned to the predicted epochs, and the agreement between them.

Hypnograms are read by ingest's readers (EDF+ annotations or CSV/text) and paired with nights by
ingest's one pairing rule (:mod:`sleep_kd.data.ingest.pairing`: the same night key, never a shared
prefix); a prediction that ``sleep_kd.predict`` wrote is never taken for a scoring.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from sleep_kd.data.ingest.edf_reader import read_header
from sleep_kd.data.ingest.hypnogram import EpochTable, read_annotation_stages, read_text_stages
from sleep_kd.data.ingest.pairing import TEXT_SUFFIXES, is_hypnogram_file, pair_scorings
from sleep_kd.data.stages import to_classes
from sleep_kd.errors import InputError
from sleep_kd.metrics.scores import score_predictions


def pair_hypnograms(nights: Sequence[Path], hypnogram: Path | None) -> dict[Path, Path | None]:
    """Each night's scored hypnogram: ``hypnogram`` itself for one night, or paired from a folder.

    InputError (before any night is read) when a night's scoring is ambiguous (several files of its
    night key, or one file fitting several nights), when the one file given is a prediction, or
    when a folder holds no scoring for any night.
    """
    if hypnogram is None:
        return dict.fromkeys(nights)
    hypnogram = Path(hypnogram)
    if hypnogram.is_file():
        if len(nights) != 1:
            raise InputError(f"--hypnogram {hypnogram}: one file for {len(nights)} nights; "
                             "pass a folder of hypnograms to pair them by name")
        _refuse_prediction(hypnogram)
        return {nights[0]: hypnogram}
    if not hypnogram.is_dir():
        raise InputError(f"--hypnogram {hypnogram}: no such file or folder")
    candidates = sorted(p for p in hypnogram.rglob("*")
                        if p.is_file() and is_hypnogram_file(p) and not is_prediction(p))
    # A night takes a hypnogram from its own folder when that folder holds any, else from anywhere
    # under ``hypnogram`` (a separate folder of scorings).
    groups: dict[tuple[Path, ...], list[Path]] = {}
    for night in nights:
        here = tuple(p for p in candidates if p.parent == night.parent)
        groups.setdefault(here or tuple(candidates), []).append(night)
    pairs: dict[Path, Path | None] = {}
    for group_candidates, group_nights in groups.items():
        for night, pairing in pair_scorings(group_nights, list(group_candidates)).items():
            if pairing.problem:
                raise InputError(f"--hypnogram {hypnogram}: {night.name}: {pairing.problem}")
            pairs[night] = pairing.scoring
    if not any(pairs.values()):
        raise InputError(f"--hypnogram {hypnogram}: no scoring file of any night's name in it "
                         f"(expected e.g. {nights[0].stem}-Hypnogram.edf or {nights[0].stem}.csv)")
    return {night: pairs[night] for night in nights}


PREDICTION_EQUIPMENT = "sleep_kd_predict"  # the EDF+ recording field predict's hypnograms carry
PREDICTION_CSV_HEADER = "onset_s,duration_s,stage,p_"  # how predict's hypnogram CSV starts


def is_prediction(path: Path) -> bool:
    """Whether ``path`` is a hypnogram that ``sleep_kd.predict`` wrote (its EDF+ or CSV), not a scoring."""
    try:
        if path.suffix.lower() == ".edf":
            with open(path, "rb") as handle:
                return PREDICTION_EQUIPMENT.encode() in handle.read(256)[88:168]
        if path.suffix.lower() == ".csv":
            with open(path, encoding="utf-8", errors="replace") as handle:
                return handle.readline().startswith(PREDICTION_CSV_HEADER)
    except OSError:
        return False
    return False


def _refuse_prediction(path: Path) -> None:
    if is_prediction(path):
        raise InputError(f"--hypnogram {path}: is a prediction written by sleep_kd.predict, not a scoring")


GRID_TOLERANCE_S = 1e-3  # EDF+ writes onsets with a few decimals: scored and predicted onsets agree this well


def read_scored(path: Path, *, psg: Path, epoch_s: float, line_s: float | None = None) -> EpochTable:
    """Scored epochs of ``epoch_s`` seconds (``--epoch-s``), onsets in seconds from the PSG's start.

    EDF+ hypnograms carry their own start. A text file of one stage per line needs ``line_s``, the
    seconds between its lines (``--line-s``): it is never taken from ``epoch_s``; finer lines are
    merged into ``epoch_s`` epochs when they agree. Every stage label is read or refused.
    """
    if path.suffix.lower() in TEXT_SUFFIXES:
        return read_text_stages(path, line_s=line_s, scoring_epoch_s=epoch_s, line_flag="--line-s")
    epochs = read_annotation_stages(path, epoch_s=epoch_s)
    hyp_start, psg_start = read_header(path).start, read_header(psg).start
    if hyp_start is not None and psg_start is not None:
        epochs = epochs.shifted((hyp_start - psg_start).total_seconds())
    return epochs


def grid_start(epochs: EpochTable, *, offset_s: float, epoch_s: float, source: str) -> float:
    """Seconds after ``offset_s`` (the cut start, from the PSG start) where the scoring's epoch grid starts.

    Predicted epochs that start there cover exactly the seconds of the scored ones. InputError,
    naming the first epoch off it, when the scored onsets do not lie on one grid of ``epoch_s``.

    >>> table = EpochTable(np.array([165.5, 195.5, 225.5]), np.full(3, 30.0), np.zeros(3, np.int8))
    >>> grid_start(table, offset_s=0.0, epoch_s=30.0, source="x")
    15.5
    """
    phase = np.mod(epochs.onset - epochs.onset[0], epoch_s)
    off = np.minimum(phase, epoch_s - phase)
    if (off > GRID_TOLERANCE_S).any():
        i = int(np.flatnonzero(off > GRID_TOLERANCE_S)[0])
        raise InputError(f"{source}: the scored epochs are not on one {epoch_s:g} s grid: the epoch at "
                         f"{epochs.onset[i]:g} s is {off[i]:g} s off the grid of the first, at {epochs.onset[0]:g} s "
                         "(predicted epochs could not cover the same seconds)")
    first = float(np.mod(epochs.onset[0] - offset_s, epoch_s))
    return 0.0 if min(first, epoch_s - first) <= GRID_TOLERANCE_S else first


def align_scored(epochs: EpochTable, onsets_s: np.ndarray, *, epoch_s: float, n_classes: int,
                 source: str) -> np.ndarray:
    """Scored class of each predicted epoch (``onsets_s`` seconds from the PSG start); -1 where none.

    A scored epoch counts only for the predicted epoch that starts at its own onset: predicted
    epochs must follow the scoring's grid (:func:`grid_start`). InputError when the scoring uses
    another epoch length, starts its epochs elsewhere than the predicted ones, or no scored epoch
    falls on the night.
    """
    if len(epochs) and not np.allclose(epochs.duration, epoch_s, atol=1e-3):
        other = float(np.median(epochs.duration))
        raise InputError(f"{source}: scored in {other:g} s epochs, predicted in {epoch_s:g} s "
                         f"(pass --epoch-s {other:g})")
    classes = to_classes(epochs.stage, n_classes)
    out = np.full(onsets_s.size, -1, dtype=np.int64)
    index = np.round((epochs.onset - onsets_s[0]) / epoch_s).astype(np.int64)
    inside = (index >= 0) & (index < onsets_s.size)
    shift = epochs.onset - (onsets_s[0] + index * epoch_s)
    if (np.abs(shift[inside]) > GRID_TOLERANCE_S).any():
        i = int(np.flatnonzero(inside & (np.abs(shift) > GRID_TOLERANCE_S))[0])
        raise InputError(f"{source}: the scored epoch at {epochs.onset[i]:g} s starts {shift[i]:+g} s from the "
                         "predicted epoch it would be compared with; they must cover the same seconds")
    out[index[inside]] = classes[inside]
    if not (out >= 0).any():
        raise InputError(f"{source}: no scored epoch falls on the {onsets_s.size} predicted epochs "
                         f"({onsets_s[0]:g} s to {onsets_s[-1] + epoch_s:g} s from the PSG start)")
    return out


def agreement(scored: np.ndarray, predicted: np.ndarray, class_names: Sequence[str]) -> dict:
    """Kappa, accuracy, per-stage F1 and confusion (rows scored) over the epochs that were scored."""
    keep = scored >= 0
    report = score_predictions(scored[keep], predicted[keep], class_names=class_names)
    report.pop("per_subject")
    report["n_unscored"] = int((~keep).sum())
    return report


def format_agreement(name: str, report: dict) -> str:
    f1 = ", ".join(f"{stage} {row['f1']:.3f}" for stage, row in report["per_class"].items())
    return (f"{name}: agreement with the scored hypnogram over {report['n_epochs']} epochs: kappa "
            f"{report['kappa']:.3f}, accuracy {report['accuracy']:.3f}; F1 {f1}")
