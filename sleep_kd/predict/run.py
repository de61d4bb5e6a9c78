"""Stage many nights: find them, check the output folder, then read, score and write each one."""

from __future__ import annotations

import datetime as dt
import glob
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from sleep_kd.data.ingest.pairing import is_hypnogram_file
from sleep_kd.errors import InputError
from sleep_kd.predict import agreement as agree
from sleep_kd.predict.figure import night_figure
from sleep_kd.predict.night import prepare_windows, read_night
from sleep_kd.predict.scoring import Stager, score_night
from sleep_kd.predict.statistics import sleep_statistics
from sleep_kd.predict.writers import (check_writable, hypnogram_csv, summary_csv, write_hypnogram_edf,
                                      write_json, write_text)

SUMMARY = "summary.csv"


@dataclass(frozen=True)
class NightOptions:
    """How each night is read and cut (see ``python -m sleep_kd.predict --help``)."""

    channel: str | None = None
    invert: bool | None = None
    start: str | None = None
    end: str | None = None
    epoch_s: float = 30.0
    batch_size: int = 128


def find_nights(inputs: Sequence[str | Path]) -> list[Path]:
    """EDF files named, globbed or found in folders (hypnogram files left out), in the order given."""
    nights: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".edf"
                           and not is_hypnogram_file(p))
        elif path.exists():
            found = [path]
        elif glob.has_magic(str(item)):
            found = sorted(Path(p) for p in glob.glob(str(item), recursive=True) if Path(p).is_file())
        else:
            raise InputError(f"{item}: no such file, folder or matching glob")
        if not found:
            raise InputError(f"{item}: holds no EDF night")
        nights += [p for p in found if p not in nights]
    names: dict[str, Path] = {}
    for night in nights:
        if night.stem in names:
            raise InputError(f"{night} and {names[night.stem]} would both write {night.stem}.*; "
                             "stage them into separate --out folders")
        names[night.stem] = night
    return nights


def stage_night(stager: Stager, path: Path, *, options: NightOptions, out: Path,
                hypnogram: Path | None = None) -> dict:
    """Stage one night and write its files; return its summary row (InputError if it cannot be staged).

    The row holds the night's name, file, channel, start, epoch count, every sleep statistic and,
    with a scored hypnogram, the agreement's kappa and accuracy; ``details`` (not a summary column)
    holds the channel choice, the full agreement report and the seconds spent reading, preparing
    and scoring.
    """
    tick = time.perf_counter()
    raw = read_night(path, modality=stager.modality, channel=options.channel, invert=options.invert,
                     start=options.start, end=options.end, min_sfreq=stager.sfreq)
    read_s = time.perf_counter() - tick
    windows = prepare_windows(raw, sfreq=stager.sfreq, window_s=stager.window_s, epoch_s=options.epoch_s,
                              normalization=stager.normalization)
    prep_s = time.perf_counter() - tick - read_s
    proba = score_night(stager.model, windows, precision=stager.precision, batch_size=options.batch_size)
    model_s = time.perf_counter() - tick - read_s - prep_s
    stages = proba.argmax(axis=1)
    onsets = raw.offset_s + np.arange(stages.size) * options.epoch_s  # seconds from the EDF start
    names = stager.class_names
    scored = report = None
    if hypnogram is not None:
        table = agree.read_scored(hypnogram, psg=path, epoch_s=options.epoch_s)
        scored = agree.align_scored(table, onsets, epoch_s=options.epoch_s, n_classes=stager.n_classes,
                                    source=hypnogram.name)
        report = agree.agreement(scored, stages, names)
    stats = sleep_statistics(stages, names, epoch_s=options.epoch_s)
    name = path.stem
    start = raw.start.isoformat() if raw.start is not None else None
    about = {"night": name, "file": str(path), "channel": raw.choice.spec, "inverted": raw.choice.invert,
             "start": start, "offset_s": raw.offset_s, "epoch_s": options.epoch_s, "n_epochs": int(stages.size)}
    write_text(out / f"{name}.hypnogram.csv", hypnogram_csv(onsets, options.epoch_s, stages, proba, names))
    edf_start = None if raw.start is None else raw.start - dt.timedelta(seconds=raw.offset_s)
    write_hypnogram_edf(out / f"{name}.hypnogram.edf", onsets, options.epoch_s, stages, names, start=edf_start)
    night_figure(out / f"{name}.png", proba, stages, names, epoch_s=options.epoch_s, start=raw.start,
                 title=f"{name}: {stager.checkpoint.config.get('strategy', '?')} on {raw.choice.spec}",
                 scored=scored)
    write_json(out / f"{name}.stats.json", {**about, "checkpoint": str(stager.checkpoint.path),
                                           "classes": list(names), "statistics": stats})
    row = {**about, **stats}
    if report is not None:
        report["hypnogram"] = str(hypnogram)
        write_json(out / f"{name}.agreement.json", report)
        row.update(scored_file=str(hypnogram), kappa=report["kappa"], accuracy=report["accuracy"])
    row["details"] = {"choice": raw.choice.describe(), "agreement": report,
                      "timings": {"read_s": read_s, "preprocess_s": prep_s, "model_s": model_s}}
    return row


def stage_nights(stager: Stager, inputs: Sequence[str | Path], *, out: str | Path, options: NightOptions,
                 hypnogram: str | Path | None = None, strict: bool = False, progress: bool = True,
                 say=None) -> tuple[list[dict], list[tuple[Path, str]]]:
    """Stage every night of ``inputs``; return (summary rows, skipped nights with their reason).

    The output folder is checked for writing and the nights found before any is read. A bad night
    is skipped with one line (``strict``: InputError at the first, earlier nights kept).
    ``DIR/summary.csv`` is rewritten (atomically) after each night, so it always lists the nights done.
    """
    from tqdm import tqdm

    out = Path(out)
    check_writable(out)
    nights = find_nights(inputs)
    pairs = agree.pair_hypnograms(nights, Path(hypnogram) if hypnogram is not None else None)
    rows, skipped = [], []
    bar = tqdm(nights, desc="predict", unit="night", disable=not progress, file=sys.stderr)
    say = say or (lambda line: bar.write(line, file=sys.stdout))  # lines above the bar, not through it
    for path in bar:
        try:
            row = stage_night(stager, path, options=options, out=out, hypnogram=pairs.get(path))
        except InputError as error:
            if strict:
                raise
            skipped.append((path, str(error)))
            bar.write(f"skipped {path.name}: {error}", file=sys.stderr)
            continue
        details = row.pop("details")
        rows.append(row)
        write_text(out / SUMMARY, summary_csv(rows))
        say(f"{row['night']}: {details['choice']}")
        say(_night_line(row))
        if details["agreement"] is not None:
            say(agree.format_agreement(row["night"], details["agreement"]))
    bar.close()
    if not rows:
        first = skipped[0][1] if skipped else "none found"
        raise InputError(f"no night could be staged ({len(skipped)} skipped; first: {first})")
    return rows, skipped


def _night_line(row: dict) -> str:
    return (f"{row['night']}: {row['n_epochs']} epochs, TST {row['TST_min']:.1f} min, "
            f"SE {row['SE_pct']:.1f} %, wrote {row['night']}.hypnogram.csv/.hypnogram.edf/.png/.stats.json")
