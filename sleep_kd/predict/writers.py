"""A night's output files, each written under a temporary name and renamed into place.

A reader (or a crash) never sees a half-written file under the final name: ``<name>.hypnogram.csv``
either holds every epoch or does not exist yet (:func:`sleep_kd.engine.outputs.atomic_path`, which
every command's outputs share).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from sleep_kd.engine.outputs import atomic_path
from sleep_kd.errors import InputError

# EDF+ stage labels as Sleep-EDF and MASS write them; classes that merge AASM stages keep their name.
EDF_STAGE_LABELS = {"W": "Sleep stage W", "REM": "Sleep stage R", "R": "Sleep stage R", "N1": "Sleep stage N1",
                    "N2": "Sleep stage N2", "N3": "Sleep stage N3"}
EDF_UNKNOWN_START = dt.datetime(1985, 1, 1)  # EDF's placeholder date when the PSG header has none


def write_text(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def check_writable(out: Path) -> None:
    """InputError unless ``out`` is (or can be made) a folder a file can be written in."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file, expected a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise InputError(f"--out {out}: cannot write there ({error.strerror or error})") from None


def edf_stage_label(name: str) -> str:
    """``W`` -> ``Sleep stage W``, ``REM`` -> ``Sleep stage R``, a merged class keeps its name."""
    return EDF_STAGE_LABELS.get(name, f"Sleep stage {name}")


def hypnogram_csv(onsets_s: np.ndarray, epoch_s: float, stages: np.ndarray, proba: np.ndarray,
                  class_names: Sequence[str]) -> str:
    """``onset_s, duration_s, stage, p_<class>...``: one row per epoch, onsets in seconds from the EDF start."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["onset_s", "duration_s", "stage", *(f"p_{name}" for name in class_names)])
    for onset, stage, row in zip(onsets_s, stages, proba):
        writer.writerow([f"{onset:.3f}", f"{epoch_s:g}", class_names[int(stage)], *(f"{p:.5f}" for p in row)])
    return buffer.getvalue()


def write_hypnogram_edf(target: Path, onsets_s: np.ndarray, epoch_s: float, stages: np.ndarray,
                        class_names: Sequence[str], *, start: dt.datetime | None) -> None:
    """An EDF+ file holding only annotations (``Sleep stage W``...), one per epoch, as Sleep-EDF's
    hypnograms are: onsets are seconds from ``start``, the PSG's own start, so viewers align them."""
    import edfio

    start = start or EDF_UNKNOWN_START
    annotations = [edfio.EdfAnnotation(float(onset), float(epoch_s), edf_stage_label(class_names[int(stage)]))
                   for onset, stage in zip(onsets_s, stages)]
    edf = edfio.Edf([], annotations=annotations, starttime=start.time().replace(microsecond=0),
                    recording=edfio.Recording(startdate=start.date(), equipment_code="sleep_kd_predict"))
    with atomic_path(target) as tmp:
        edf.write(tmp)


def write_json(target: Path, data: Mapping) -> None:
    write_text(target, json.dumps(data, indent=2) + "\n")


def summary_csv(rows: Sequence[Mapping]) -> str:
    """One row per night; columns in the order they first appear (a missing figure is empty)."""
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()
