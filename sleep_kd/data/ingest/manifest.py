"""An explicit list of nights: ``--manifest FILE.csv`` pairs each signal with its hypnogram.

Columns ``signal`` and ``hypnogram`` (paths, relative ones relative to the manifest's folder),
optional ``subject`` and ``subset``. For names that the pairing rule
(:mod:`sleep_kd.data.ingest.pairing`) does not match (``rec_0042.edf`` beside ``scorer_b/42.txt``).
The manifest itself is checked whole before any night is read (columns, empty cells, duplicated
recordings, a scoring file listed for two nights); a listed file that does not exist makes that
night a skip with its reason, like any other bad night.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sleep_kd.data.ingest.sources import RecordingRef
from sleep_kd.data.ingest.sources.edf import recording_id_of
from sleep_kd.errors import InputError

REQUIRED = ("signal", "hypnogram")
OPTIONAL = ("subject", "subset")


def _header(reader: csv.DictReader, path: Path) -> None:
    columns = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in columns]
    unknown = [name for name in columns if name not in REQUIRED + OPTIONAL]
    if missing or unknown:
        problem = f"no column {missing[0]!r}" if missing else f"unknown column {unknown[0]!r}"
        raise InputError(f"{path}: {problem}; a manifest has columns signal,hypnogram and optionally "
                         "subject,subset")
    reader.fieldnames = columns


def read_manifest(path: Path, *, adapter, unscored: bool = False) -> list[RecordingRef]:
    """The nights listed in ``path``, sorted by recording id (the signal file's stem).

    ``adapter`` gives the subject of a row without one (its ``subject_of(recording_id)``, if it
    has one; else the recording id). ``unscored``: an empty ``hypnogram`` cell lists a night nobody
    scored (without it, an empty cell is refused).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the manifest ({error.strerror or type(error).__name__})") from None
    reader = csv.DictReader(text.splitlines())
    _header(reader, path)
    subject_of = getattr(adapter, "subject_of", lambda rid: rid)
    refs, seen, scorings = [], {}, {}
    for row in reader:
        where = f"{path.name} line {reader.line_num}"
        cells = {key: (value or "").strip() for key, value in row.items() if key is not None}
        if not any(cells.values()):
            continue
        if None in row:
            raise InputError(f"{where}: more cells than the header's {len(reader.fieldnames)} columns")
        for name in REQUIRED:
            if not cells.get(name) and not (name == "hypnogram" and unscored):
                hint = "; --unscored keeps a night nobody scored" if name == "hypnogram" else ""
                raise InputError(f"{where}: empty {name!r} cell (expected a file path{hint})")
        if not cells["hypnogram"]:
            signal = _resolve(cells["signal"], path.parent)
            rid = recording_id_of(signal)
            if rid in seen:
                raise InputError(f"{where}: recording {rid!r} is already listed on line {seen[rid]} "
                                 "(recording ids, the signal file names, must be unique)")
            seen[rid] = reader.line_num
            refs.append(RecordingRef(rid, cells.get("subject") or subject_of(rid), cells.get("subset") or "",
                                     signal, Path(""), listed_in=where, scored=False))
            continue
        signal, hypnogram = (_resolve(cells[name], path.parent) for name in REQUIRED)
        rid = recording_id_of(signal)
        if rid in seen:
            raise InputError(f"{where}: recording {rid!r} is already listed on line {seen[rid]} "
                             "(recording ids, the signal file names, must be unique)")
        seen[rid] = reader.line_num
        scoring = hypnogram.resolve()
        if scoring in scorings:
            raise InputError(f"{where}: scoring file {cells['hypnogram']} is already listed for line "
                             f"{scorings[scoring]}'s recording (one scoring serves one night)")
        scorings[scoring] = reader.line_num
        refs.append(RecordingRef(rid, cells.get("subject") or subject_of(rid), cells.get("subset") or "",
                                 signal, hypnogram, listed_in=where))
    if not refs:
        raise InputError(f"{path}: the manifest lists no recordings")
    return sorted(refs, key=lambda ref: ref.recording_id)


def _resolve(cell: str, folder: Path) -> Path:
    candidate = Path(cell).expanduser()
    return candidate if candidate.is_absolute() else folder / candidate
