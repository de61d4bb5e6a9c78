"""Where a command writes: checked before any work, written whole or not at all.

A folder (``--out``) or a file (``--json``) is checked up front: it is not the other kind of
thing, the nearest folder that exists can really be written (a probe file is created and removed,
which also catches a read-only file system, where permission bits cannot), and the disk has room.
A file is written through a temporary name in its own folder and renamed into place; a write that
fails (a full disk) removes the temporary file and is one line naming the path.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sleep_kd.errors import InputError

MIN_FREE_BYTES = 16 * 2**20  # below this a disk is full for our purposes (JSON, logs, renames)


def _existing_ancestor(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists():
        path = path.parent
    return path


def _probe(folder: Path, *, label: str, needed_bytes: int) -> None:
    """Refuse ``folder`` if a file cannot be created in it, or it has less room than needed."""
    if not folder.is_dir():
        raise InputError(f"{label}: {folder} is a file, not a folder")
    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=".sleep_kd-probe-")
    except OSError as error:
        raise InputError(f"{label}: folder {folder} cannot be written ({error.strerror or error})") from None
    os.close(handle)
    os.unlink(name)
    free = shutil.disk_usage(folder).free
    if free < needed_bytes + MIN_FREE_BYTES:
        raise InputError(f"{label}: not enough free disk space in {folder}: {free / 2**20:.1f} MiB free, "
                         f"about {(needed_bytes + MIN_FREE_BYTES) / 2**20:.1f} MiB needed")


def check_output_dir(path: str | Path, *, label: str, needed_bytes: int = 0) -> Path:
    """A folder the command will create or fill: refuse a file there, or a place it cannot write."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{label}: {path} is a file, expected a folder")
    _probe(_existing_ancestor(path), label=label, needed_bytes=needed_bytes)
    return path


def check_output_file(path: str | Path, *, label: str) -> Path:
    """A file the command will write: refuse a folder there, a missing or unwritable parent folder."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{label}: {path} is a folder, expected a file name")
    parent = Path(os.path.abspath(path)).parent
    if not parent.is_dir():
        raise InputError(f"{label}: folder {path.parent} does not exist")
    _probe(parent, label=label, needed_bytes=0)
    return path


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A temporary path beside ``target`` (``.<name>.tmp-<pid>``); renamed to ``target`` if the block
    completes, else removed. A reader (or a crash) never sees a half-written file under the final name."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: str | Path, text: str, *, label: str) -> None:
    """Write ``text`` to ``path`` through a temporary file; a failed write leaves nothing behind."""
    try:
        with atomic_path(path) as tmp, open(tmp, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise InputError(f"{label}: could not write {path} ({error.strerror or error})") from None
