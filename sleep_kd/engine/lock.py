"""One training process per run folder: an ``flock`` on ``OUT/.lock`` held for the run's lifetime.

The kernel drops the lock when the process ends, however it ends (a crash, SIGKILL), so a stale
lock never blocks the next run. The file stays empty (a failed command leaves an existing run
folder byte-identical); the process that holds it is read from ``/proc/locks`` where there is one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

from sleep_kd.errors import InputError

LOCK_FILE = ".lock"


def _holder(path: Path) -> str:
    """``process 1234`` holding the flock on ``path`` (Linux), or ``another process``."""
    try:
        inode = os.stat(path).st_ino
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if "FLOCK" in fields and len(fields) >= 6 and fields[5].rsplit(":", 1)[-1] == str(inode):
                return f"process {fields[4]}"
    except (OSError, IndexError):
        pass
    return "another process"


class RunLock:
    """``with RunLock(folder):`` -- refuse a second writer; a folder this made for a run that failed goes.

    Parameters
    ----------
    folder : the run folder (created if missing).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.fd: int | None = None
        self.created: Path | None = None  # the top-most folder this lock had to create

    def __enter__(self) -> "RunLock":
        missing = self.folder
        while not missing.parent.exists() and missing.parent != missing:
            missing = missing.parent
        self.created = None if self.folder.exists() else missing
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / LOCK_FILE
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = None
            raise InputError(f"run folder {self.folder} is in use by {_holder(path)} (another train_loop.py "
                             "writing there); wait for it to end or give another --out") from None
        return self

    def __exit__(self, kind, error, trace) -> None:
        if self.fd is not None:
            if self.created is not None and kind is not None and self._only_the_lock_is_there():
                shutil.rmtree(self.created, ignore_errors=True)  # a run refused before it wrote anything
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def _only_the_lock_is_there(self) -> bool:
        return [p.name for p in self.folder.iterdir()] == [LOCK_FILE]
