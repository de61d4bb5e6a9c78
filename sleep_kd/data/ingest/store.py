"""The HDF5 cohort file: schema, a deterministic writer and a checked reader.

Layout (what the training side relies on)::

    / attrs: format="sleep_kd.cohort", format_version=1, sfreq=<Hz>, source=<name>
    /recordings/<recording_id>/eeg             float32 (n_samples,)
    /recordings/<recording_id>/ecg             float32 (n_samples,)  absent without ECG
    /recordings/<recording_id>/epochs/onset    float64 (n_epochs,)  s from the first stored sample
    /recordings/<recording_id>/epochs/duration float64 (n_epochs,)  s
    /recordings/<recording_id>/epochs/stage    int8    (n_epochs,)  Stage codes

Writing the same recordings twice gives byte-identical files: no object timestamps, recordings
written in sorted order, attributes in sorted order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from sleep_kd.data.ingest.hypnogram import EpochTable
from sleep_kd.errors import InputError

FORMAT = "sleep_kd.cohort"
FORMAT_VERSION = 1
MODALITIES = ("eeg", "ecg")
# Signals are stored contiguous (not chunked, not compressed): a window read is one slice of
# the file. Against 10 s chunks, writes are 3x faster and window reads 1.8x faster; LZF+shuffle
# compression shrank float32 PSG by only 7-10% and cost a quarter of ingest time
# (bench/ingest.py, bench/README.md).
# Per-dataset chunk cache of files written chunked by earlier versions.
CACHE_BYTES = 1 << 18


@dataclass
class StoredRecording:
    """One night ready to store: signals at the cohort rate, epochs relative to their start."""

    recording_id: str
    eeg: np.ndarray
    ecg: np.ndarray | None
    epochs: EpochTable
    attrs: dict = field(default_factory=dict)


class CohortWriter:
    """Write a cohort to ``path`` through ``path.tmp-<pid>``, replaced atomically on close.

    Use as a context manager; on an exception the temporary file is removed and any previous
    ``path`` is left untouched.
    """

    def __init__(self, path: Path, *, sfreq: float, source: str) -> None:
        self.path = Path(path)
        self.sfreq = float(sfreq)
        self.tmp_path = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}")
        self._file = h5py.File(self.tmp_path, "w")
        for key, value in sorted({"format": FORMAT, "format_version": FORMAT_VERSION,
                                  "sfreq": self.sfreq, "source": source}.items()):
            self._file.attrs[key] = value
        self._group = self._file.create_group("recordings")
        self._last_id: str | None = None

    def add(self, recording: StoredRecording) -> None:
        """Append one recording; ids must come in sorted order (that keeps files reproducible)."""
        rid = recording.recording_id
        if "/" in rid or (self._last_id is not None and rid <= self._last_id):
            raise ValueError(f"recording ids must be unique, sorted and free of '/': {rid!r}")
        self._last_id = rid
        group = self._group.create_group(rid)
        for name in MODALITIES:
            signal = getattr(recording, name)
            if signal is None:
                continue
            signal = np.ascontiguousarray(signal, dtype=np.float32)
            group.create_dataset(name, data=signal, track_times=False)
        epochs = group.create_group("epochs")
        for name, dtype in (("onset", np.float64), ("duration", np.float64), ("stage", np.int8)):
            epochs.create_dataset(name, data=np.asarray(getattr(recording.epochs, name), dtype=dtype),
                                  track_times=False)
        for key, value in sorted(recording.attrs.items()):
            group.attrs[key] = value

    def close(self) -> None:
        self._file.close()
        os.replace(self.tmp_path, self.path)

    def abort(self) -> None:
        self._file.close()
        self.tmp_path.unlink(missing_ok=True)

    def __enter__(self) -> CohortWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def open_cohort(path: Path, *, cache_bytes: int = CACHE_BYTES) -> h5py.File:
    """Open a cohort file read-only, checking it is one; InputError naming the file if not."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: cohort file not found")
    try:
        handle = h5py.File(path, "r", rdcc_nbytes=cache_bytes, rdcc_nslots=521)
    except OSError:
        raise InputError(f"{path}: not a readable HDF5 file (truncated or corrupt?)") from None
    fmt = handle.attrs.get("format")
    if fmt != FORMAT or "recordings" not in handle or "sfreq" not in handle.attrs:
        handle.close()
        raise InputError(f"{path}: not a sleep_kd cohort file (expected format={FORMAT!r})")
    version = int(handle.attrs.get("format_version", -1))
    if version != FORMAT_VERSION:
        handle.close()
        raise InputError(f"{path}: cohort format_version {version}, expected {FORMAT_VERSION}")
    return handle


def read_epochs(handle: h5py.File, recording_id: str) -> EpochTable:
    """The epoch table of one recording (small: never touches the signals)."""
    try:
        group = handle["recordings"][recording_id]["epochs"]
        return EpochTable(group["onset"][()], group["duration"][()], group["stage"][()])
    except (KeyError, OSError):
        raise InputError(f"{handle.filename}: recording {recording_id!r} has no readable epoch table") from None


def recording_ids(handle: h5py.File) -> list[str]:
    """All recording ids in the file, sorted."""
    return sorted(handle["recordings"].keys())


def recording_attrs(handle: h5py.File, recording_id: str) -> dict:
    """The attributes of one recording, as plain Python values."""
    attrs = handle["recordings"][recording_id].attrs
    return {key: (value.item() if hasattr(value, "item") else value) for key, value in attrs.items()}
