"""Where ``sleep_kd.predict`` writes, and the one check that nothing a user made is overwritten.

Per night ``<name>`` (the EDF's stem), into ``--out``: ``<name>.hypnogram.csv``,
``<name>.hypnogram.edf``, ``<name>.png``, ``<name>.stats.json`` and ``<name>.agreement.json``; for
the run, ``summary.csv``. Before any night is read, :func:`check_outputs` refuses (one line):

- an output path that is an input of the same run: a night, the ``--hypnogram`` file or a scoring
  paired with a night (``--out`` pointed at the folder of the nights and their scorings);
- an existing ``<name>.hypnogram.edf`` or ``.csv`` that predict did not write (a scorer's file:
  predict's EDF carries the equipment code ``sleep_kd_predict``, its CSV starts ``onset_s,...,p_``);
- an existing ``summary.csv`` without predict's ``night`` column.

A summary predict wrote keeps the rows of the nights an earlier run staged (:func:`merged_rows`);
a night staged again gets its new row.
"""

from __future__ import annotations

import csv
import os
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Mapping, Sequence

from sleep_kd.errors import InputError
from sleep_kd.predict.agreement import is_prediction

SUMMARY = "summary.csv"


@dataclass(frozen=True)
class NightOutputs:
    """The files one night writes (the agreement only with a scoring)."""

    csv: Path
    edf: Path
    png: Path
    stats: Path
    agreement: Path

    def paths(self) -> tuple[Path, ...]:
        return astuple(self)


def night_outputs(out: Path, name: str) -> NightOutputs:
    """The output paths of the night whose EDF stem is ``name``."""
    out = Path(out)
    return NightOutputs(csv=out / f"{name}.hypnogram.csv", edf=out / f"{name}.hypnogram.edf",
                        png=out / f"{name}.png", stats=out / f"{name}.stats.json",
                        agreement=out / f"{name}.agreement.json")


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (through links and relative spellings too)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def run_inputs(pairs: Mapping[Path, Path | None], hypnogram: Path | None) -> dict[Path, str]:
    """Every file the run reads, with the words naming it in a refusal."""
    inputs: dict[Path, str] = {Path(night): f"the night {Path(night).name}" for night in pairs}
    if hypnogram is not None and Path(hypnogram).is_file():
        inputs[Path(hypnogram)] = f"the --hypnogram file {Path(hypnogram).name}"
    for night, scoring in pairs.items():
        if scoring is not None:
            inputs.setdefault(Path(scoring), f"the scoring {Path(scoring).name} of {Path(night).name}")
    return inputs


def check_outputs(out: Path, pairs: Mapping[Path, Path | None], *, hypnogram: Path | None = None) -> None:
    """InputError, before any night is read, when a run into ``out`` would replace an input or a user's file.

    Parameters
    ----------
    out : the ``--out`` folder.
    pairs : each night's EDF and its paired scoring file (None without one).
    hypnogram : the ``--hypnogram`` argument (a file or a folder), if given.
    """
    out = Path(out)
    inputs = run_inputs(pairs, hypnogram)
    targets = [path for night in pairs for path in night_outputs(out, Path(night).stem).paths()]
    for target in [*targets, out / SUMMARY]:
        for source, what in inputs.items():
            if _same_file(target, source):
                raise InputError(f"--out {out}: {target.name} would overwrite {what}, an input of this run; "
                                 "choose another --out")
    for night in pairs:
        outputs = night_outputs(out, Path(night).stem)
        for target in (outputs.edf, outputs.csv):
            if target.exists() and not is_prediction(target):
                raise InputError(f"{target}: exists and was not written by sleep_kd.predict (a scorer's hypnogram?); "
                                 "it is never replaced: move it or choose another --out")
    earlier_rows(out)  # a summary.csv that is not predict's is refused now, not after the first night


def earlier_rows(out: Path) -> list[dict]:
    """The rows of ``out/summary.csv`` from earlier runs ([] without one); InputError if predict did not write it."""
    path = Path(out) / SUMMARY
    if not path.exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            columns = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{path}: cannot read the earlier summary ({error}); move it or choose another --out") from None
    if not columns or columns[0] != "night":
        raise InputError(f"{path}: exists and was not written by sleep_kd.predict (its first column is not 'night'); "
                         "it is never replaced: move it or choose another --out")
    return rows


def merged_rows(earlier: Sequence[Mapping], rows: Sequence[Mapping]) -> list[Mapping]:
    """The earlier summary's rows of nights not staged again, then this run's rows (in staging order)."""
    staged = {row["night"] for row in rows}
    return [row for row in earlier if row.get("night") not in staged] + list(rows)
