"""The HDF5 cohort file, the one module that writes and reads it (ingest, training, evaluation).

Layout (what the training side relies on)::

    / attrs: format="sleep_kd.cohort", format_version=1, sfreq=<Hz>, source=<name>,
             modalities="eeg,ecg" (or "ecg", "eeg": the signals every recording holds)
    /recordings/<recording_id>/eeg             float32 (n_samples,)  absent in an ECG-only cohort
    /recordings/<recording_id>/ecg             float32 (n_samples,)  absent without ECG
    /recordings/<recording_id>/epochs/onset    float64 (n_epochs,)  s from the first stored sample
    /recordings/<recording_id>/epochs/duration float64 (n_epochs,)  s
    /recordings/<recording_id>/epochs/stage    int8    (n_epochs,)  Stage codes

Writing the same recordings twice gives byte-identical files: no object timestamps, recordings
written in sorted order, attributes in sorted order. Files written before ``modalities`` existed
are read too: :func:`cohort_modalities` then looks at the recordings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from sleep_kd.errors import InputError

FORMAT = "sleep_kd.cohort"
FORMAT_VERSION = 1
# The signals a cohort can hold, the names used everywhere (strategies, datasets, checkpoints).
MODALITIES = ("eeg", "ecg")
# Signals are stored contiguous (not chunked, not compressed): a window read is one slice of
# the file. Against 10 s chunks, writes are 3x faster and window reads 1.8x faster; LZF+shuffle
# compression shrank float32 PSG by only 7-10% and cost a quarter of ingest time
# (bench/ingest.py, docs/speed.md).
# Per-dataset chunk cache of files written chunked by earlier versions.
CACHE_BYTES = 1 << 18


@dataclass(frozen=True)
class EpochTable:
    """Scoring epochs of one night.

    Attributes
    ----------
    onset : np.ndarray of float64, shape (n_epochs,)
        Seconds from the reference (file start or first stored sample).
    duration : np.ndarray of float64, shape (n_epochs,)
        Seconds.
    stage : np.ndarray of int8, shape (n_epochs,)
        :class:`~sleep_kd.data.stages.Stage` codes.
    """

    onset: np.ndarray
    duration: np.ndarray
    stage: np.ndarray

    def __len__(self) -> int:
        return int(self.onset.size)

    def select(self, mask: np.ndarray) -> EpochTable:
        return EpochTable(self.onset[mask], self.duration[mask], self.stage[mask])

    def shifted(self, seconds: float) -> EpochTable:
        """The same epochs with ``seconds`` added to every onset."""
        return EpochTable(self.onset + seconds, self.duration, self.stage)


@dataclass
class StoredRecording:
    """One night ready to store: signals at the cohort rate (None: not held), epochs from their start."""

    recording_id: str
    eeg: np.ndarray | None
    ecg: np.ndarray | None
    epochs: EpochTable
    attrs: dict = field(default_factory=dict)


class CohortWriter:
    """Write a cohort to ``path`` through ``path.tmp-<pid>``, replaced atomically on close.

    Use as a context manager; on an exception the temporary file is removed and any previous
    ``path`` is left untouched. The root attribute ``modalities`` is written on close: the signals
    every recording added holds.
    """

    def __init__(self, path: Path, *, sfreq: float, source: str) -> None:
        self.path = Path(path)
        self.sfreq = float(sfreq)
        self.modalities: tuple[str, ...] | None = None  # held by every recording so far
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
        held = tuple(m for m in MODALITIES if getattr(recording, m) is not None)
        if not held:
            raise ValueError(f"recording {rid!r} holds no signal")
        self.modalities = held if self.modalities is None else tuple(m for m in self.modalities if m in held)
        self._last_id = rid
        group = self._group.create_group(rid)
        for name in held:
            signal = getattr(recording, name)
            signal = np.ascontiguousarray(signal, dtype=np.float32)
            group.create_dataset(name, data=signal, track_times=False)
        epochs = group.create_group("epochs")
        for name, dtype in (("onset", np.float64), ("duration", np.float64), ("stage", np.int8)):
            epochs.create_dataset(name, data=np.asarray(getattr(recording.epochs, name), dtype=dtype),
                                  track_times=False)
        for key, value in sorted(recording.attrs.items()):
            group.attrs[key] = value

    def close(self) -> None:
        self._file.attrs["modalities"] = ",".join(self.modalities or ())
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


def cohort_modalities(path_or_handle) -> tuple[str, ...]:
    """The signals every recording of a cohort holds, in :data:`MODALITIES` order: ``("eeg", "ecg")``...

    Accepts a path (the file is opened and checked) or an open handle. Files written before the
    ``modalities`` attribute existed are answered from their recordings.
    """
    if isinstance(path_or_handle, h5py.File):
        return _modalities_of(path_or_handle)
    with open_cohort(path_or_handle) as handle:
        return _modalities_of(handle)


def _modalities_of(handle: h5py.File) -> tuple[str, ...]:
    stored = handle.attrs.get("modalities")
    if stored is not None:
        names = stored.decode() if isinstance(stored, bytes) else str(stored)
        return tuple(m for m in MODALITIES if m in names.split(","))
    groups = [handle["recordings"][rid] for rid in recording_ids(handle)]
    return tuple(m for m in MODALITIES if groups and all(m in group for group in groups))


def require_modalities(path, needed, *, what: str) -> None:
    """InputError naming the cohort and the missing signal when ``needed`` are not all held.

    ``what`` says who needs them, e.g. ``"strategy kd_temp (teacher)"``.
    """
    held = cohort_modalities(path)
    missing = [m for m in needed if m not in held]
    if missing:
        raise InputError(f"{path}: {what} needs {missing[0].upper()}, but the cohort holds only "
                         f"{', '.join(m.upper() for m in held) or 'no signal'} "
                         f"(ingest it with --eeg and --ecg to store both)")


# How a source records a lead it multiplied by -1 in ``<modality>_derivation`` ("-1 * ECG ECGI").
INVERTED_PREFIX = "-1 * "


def recording_lead(attrs: dict, modality: str) -> tuple[str, bool] | None:
    """The lead (a channel or ``"A - B"``) a recording's ``modality`` was read from, and whether ingest
    inverted it; None when the recording does not say (a file written before the attribute existed)."""
    text = attrs.get(f"{modality}_derivation")
    text = (text.decode() if isinstance(text, bytes) else str(text or "")).strip()
    if not text:
        return None
    if text.startswith(INVERTED_PREFIX):
        return text[len(INVERTED_PREFIX):].strip(), True
    return text, False


def recording_leads(path, recordings, modality: str) -> list[dict]:
    """The leads ``recordings`` of a cohort were read from for ``modality``, sorted.

    Returns
    -------
    list of ``{"lead": str, "inverted": bool, "recordings": int}``, one per lead and orientation
    (a lead read both ways in one cohort gets two entries); recordings that do not say are left out.
    """
    counts: dict[tuple[str, bool], int] = {}
    with open_cohort(path) as handle:
        for rid in sorted(recordings):
            lead = recording_lead(recording_attrs(handle, rid), modality)
            if lead is not None:
                counts[lead] = counts.get(lead, 0) + 1
    return [{"lead": lead, "inverted": inverted, "recordings": n} for (lead, inverted), n in sorted(counts.items())]
