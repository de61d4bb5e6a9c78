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
from sleep_kd.data.ingest.pipeline import check_describes
from sleep_kd.errors import InputError
from sleep_kd.predict import agreement as agree
from sleep_kd.predict.figure import night_figure
from sleep_kd.predict.night import RawNight, prepare_windows, read_night
from sleep_kd.predict.outputs import SUMMARY, check_outputs, earlier_rows, merged_rows, night_outputs
from sleep_kd.predict.scoring import Stager, score_night
from sleep_kd.predict.statistics import sleep_statistics
from sleep_kd.predict.writers import (check_writable, hypnogram_csv, summary_csv, write_hypnogram_edf,
                                      write_json, write_text)


@dataclass(frozen=True)
class NightOptions:
    """How each night is read and cut (see ``python -m sleep_kd.predict --help``)."""

    channel: str | None = None
    invert: bool | None = None
    start: str | None = None
    end: str | None = None
    epoch_s: float = 30.0
    batch_size: int = 128
    line_s: float | None = None  # seconds between the lines of a one-stage-per-line text scoring (--line-s)


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

    With a scored ``hypnogram``, the scoring is read and checked (it must describe this recording,
    as ingest requires, and lie on one grid of ``options.epoch_s``) before the model runs, and the
    predicted epochs follow its grid: each covers exactly the seconds of a scored epoch.

    The row holds the night's name, file, channel, start, epoch count, every sleep statistic and,
    with a scored hypnogram, the agreement's kappa and accuracy; ``details`` (not a summary column)
    holds the channel choice, the full agreement report and the seconds spent reading, preparing
    and scoring.
    """
    tick = time.perf_counter()
    raw = read_night(path, modality=stager.modality, channel=options.channel, invert=options.invert,
                     start=options.start, end=options.end, min_sfreq=stager.sfreq, trained=stager.leads)
    table, first_s = _scoring(raw, hypnogram, options) if hypnogram is not None else (None, 0.0)
    read_s = time.perf_counter() - tick
    windows = prepare_windows(raw, sfreq=stager.sfreq, window_s=stager.window_s, epoch_s=options.epoch_s,
                              normalization=stager.normalization, first_s=first_s)
    prep_s = time.perf_counter() - tick - read_s
    proba = score_night(stager.model, windows, precision=stager.precision, batch_size=options.batch_size)
    model_s = time.perf_counter() - tick - read_s - prep_s
    stages = proba.argmax(axis=1)
    onsets = raw.offset_s + first_s + np.arange(stages.size) * options.epoch_s  # seconds from the EDF start
    names = stager.class_names
    scored = report = None
    if table is not None:
        scored = agree.align_scored(table, onsets, epoch_s=options.epoch_s, n_classes=stager.n_classes,
                                    source=hypnogram.name)
        report = agree.agreement(scored, stages, names)
        report["hypnogram"] = str(hypnogram)
    stats = sleep_statistics(stages, names, epoch_s=options.epoch_s)
    start = raw.start + dt.timedelta(seconds=first_s) if raw.start is not None else None
    about = {"night": path.stem, "file": str(path), "channel": raw.choice.spec, "inverted": raw.choice.invert,
             "start": None if start is None else start.isoformat(), "offset_s": raw.offset_s + first_s,
             "epoch_s": options.epoch_s, "n_epochs": int(stages.size)}
    _write_night(stager, raw, out, about=about, start=start, onsets=onsets, proba=proba, stages=stages,
                 stats=stats, scored=scored, report=report)
    row = {**about, **stats}
    if report is not None:
        row.update(scored_file=str(hypnogram), kappa=report["kappa"], accuracy=report["accuracy"])
    row["details"] = {"choice": raw.choice.describe(), "agreement": report,
                      "timings": {"read_s": read_s, "preprocess_s": prep_s, "model_s": model_s}}
    return row


def _scoring(raw: RawNight, hypnogram: Path, options: NightOptions):
    """The scored epochs of ``raw``'s night and where its grid starts after the cut (seconds); see :func:`stage_night`."""
    table = agree.read_scored(hypnogram, psg=raw.path, epoch_s=options.epoch_s, line_s=options.line_s)
    check_describes(table, duration_s=raw.recording_s, source=hypnogram.name)  # ingest's own check
    return table, agree.grid_start(table, offset_s=raw.offset_s, epoch_s=options.epoch_s, source=hypnogram.name)


def _write_night(stager: Stager, raw: RawNight, out: Path, *, about: dict, start: dt.datetime | None, onsets, proba,
                 stages, stats, scored, report) -> None:
    """Write one night's files (:func:`sleep_kd.predict.outputs.night_outputs`), each atomically.

    ``start`` is the clock time of the first predicted epoch; ``onsets`` (n_epochs,) seconds from the EDF start.
    """
    names, epoch_s = stager.class_names, about["epoch_s"]
    paths = night_outputs(out, about["night"])
    write_text(paths.csv, hypnogram_csv(onsets, epoch_s, stages, proba, names))
    edf_start = None if raw.start is None else raw.start - dt.timedelta(seconds=raw.offset_s)
    write_hypnogram_edf(paths.edf, onsets, epoch_s, stages, names, start=edf_start)
    night_figure(paths.png, proba, stages, names, epoch_s=epoch_s, start=start,
                 title=f"{about['night']}: {stager.checkpoint.config.get('strategy', '?')} on {raw.choice.spec}",
                 scored=scored)
    write_json(paths.stats, {**about, "checkpoint": str(stager.checkpoint.path), "classes": list(names),
                             "statistics": stats})
    if report is not None:
        write_json(paths.agreement, report)


def stage_nights(stager: Stager, inputs: Sequence[str | Path], *, out: str | Path, options: NightOptions,
                 hypnogram: str | Path | None = None, strict: bool = False, progress: bool = True,
                 say=None) -> tuple[list[dict], list[tuple[Path, str]]]:
    """Stage every night of ``inputs``; return (summary rows, skipped nights with their reason).

    The output folder is checked for writing, the nights found and paired, and every output path
    checked (:func:`sleep_kd.predict.outputs.check_outputs`: none may be an input of the run or a
    file predict did not write) before any night is read. A bad night is skipped with one line
    (``strict``: InputError at the first, earlier nights kept). ``DIR/summary.csv`` is rewritten
    (atomically) after each night, so it always lists the nights done, and keeps the rows of nights
    an earlier run into ``DIR`` staged.
    """
    from tqdm import tqdm

    out = Path(out)
    check_writable(out)
    nights = find_nights(inputs)
    hypnogram = Path(hypnogram) if hypnogram is not None else None
    pairs = agree.pair_hypnograms(nights, hypnogram)
    check_outputs(out, pairs, hypnogram=hypnogram)
    earlier = earlier_rows(out)
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
        write_text(out / SUMMARY, summary_csv(merged_rows(earlier, rows)))
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
