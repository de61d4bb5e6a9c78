"""Lazy windows over an HDF5 cohort file: one item per scorable epoch, read on demand.

Only the epoch tables are read at construction; signal windows are read per item through an h5py
handle opened lazily in each process (so the dataset pickles into DataLoader workers and
Accelerate processes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Collection, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from sleep_kd.choices import NORMALIZATIONS  # the config's words, listed once
from sleep_kd.data import cohort_file
from sleep_kd.data.resampling import rate_ratio, resampler
from sleep_kd.data.stages import IGNORED, UNSCORED_NIGHT, class_names, to_classes
from sleep_kd.errors import InputError


def normalize(window: np.ndarray, method: str) -> np.ndarray:
    """Scale one window: ``minmax`` to [0, 1], ``zscore`` robustly (median / IQR), or ``none``.

    A flat window maps to zeros (no division by zero).
    """
    return normalize_rows(window[None], method)[0]


def normalize_rows(windows: np.ndarray, method: str) -> np.ndarray:
    """:func:`normalize` applied to each row of ``windows`` (B, n_times) at once."""
    if method == "minmax":
        low, high = windows.min(axis=1, keepdims=True), windows.max(axis=1, keepdims=True)
        span = high - low
        flat = span == 0
        return np.where(flat, 0, (windows - low) / np.where(flat, 1, span)).astype(windows.dtype, copy=False)
    if method == "zscore":
        q1, median, q3 = np.percentile(windows, (25, 50, 75), axis=1, keepdims=True)
        iqr = q3 - q1
        return (windows - median) / np.where(iqr > 0, iqr, 1)
    return windows


class CohortWindows(Dataset):
    """Windows of ``window_s`` seconds centred on each scorable epoch of a cohort file.

    Parameters
    ----------
    path : str or Path
        Cohort HDF5 file (:mod:`sleep_kd.data.cohort_file`).
    n_classes : {3, 4}
        Label mapping (:func:`sleep_kd.data.stages.to_classes`); movement and unscored epochs are
        dropped.
    recordings : sequence of str, optional
        Recording ids to use (default: all, sorted).
    sfreq : float, optional
        Model rate in Hz; windows are resampled when it differs from the file's.
    window_s : float
        Window length in seconds. An R&K 20 s epoch gets 5 s either side at 30 s.
    normalization : {"minmax", "zscore", "none"}
        Per-window scaling, applied after resampling.
    modalities : sequence of {"eeg", "ecg"}

    unscored : collection of str
        Recordings used as nights nobody scored (``data.scored_subjects``, or nights ingested with
        ``--unscored``): every epoch whose window fits is an item, labelled
        :data:`~sleep_kd.data.stages.UNSCORED_NIGHT`, whatever its stored stage.

    Items are dicts: ``eeg``/``ecg`` float32 tensors (1, n_times), ``label``, ``recording``
    (index into :attr:`recordings`) and ``epoch`` (index in the recording's epoch table), all int64.
    :attr:`labels` holds every item's label; :attr:`scored_labels` the scored ones (class weights).
    """

    def __init__(self, path, *, n_classes: int, recordings: Sequence[str] | None = None,
                 sfreq: float | None = None, window_s: float = 30.0, normalization: str = "minmax",
                 modalities: Sequence[str] = ("eeg", "ecg"), unscored: Collection[str] = ()) -> None:
        if normalization not in NORMALIZATIONS:
            raise InputError(f"normalization {normalization!r}: expected one of {', '.join(NORMALIZATIONS)}")
        bad = [m for m in modalities if m not in cohort_file.MODALITIES]  # one list, in cohort_file
        if bad or not modalities:
            raise InputError(f"modalities {list(modalities)!r}: expected a non-empty subset of {cohort_file.MODALITIES}")
        if window_s <= 0 or (sfreq is not None and sfreq <= 0):
            raise InputError(f"window_s={window_s!r} and sfreq={sfreq!r} must be positive")
        self.path = Path(path)
        self.n_classes = n_classes
        self.class_names = class_names(n_classes)
        self.modalities = tuple(modalities)
        self.normalization = normalization
        self.window_s = float(window_s)
        self.unscored = frozenset(unscored)
        with cohort_file.open_cohort(self.path) as handle:
            self.file_sfreq = float(handle.attrs["sfreq"])
            self.recordings = self._choose(handle, recordings)
            self.subjects = [str(cohort_file.recording_attrs(handle, rid).get("subject", rid))
                             for rid in self.recordings]
            self.sfreq = float(sfreq) if sfreq is not None else self.file_sfreq
            self.n_times = int(round(self.window_s * self.sfreq))
            self._file_times = int(round(self.window_s * self.file_sfreq))
            self._index_items(handle)
        self._setup_resampling()
        self._handle = None
        self._pid = None
        self._datasets: dict = {}

    def _choose(self, handle, recordings) -> list[str]:
        known = cohort_file.recording_ids(handle)
        chosen = known if recordings is None else list(recordings)
        missing = [rid for rid in chosen if rid not in set(known)]
        if missing:
            raise InputError(f"{self.path}: no recording {missing[0]!r} in the cohort file")
        groups = [handle["recordings"][rid] for rid in chosen]
        for modality in self.modalities:  # a whole cohort without it: say so once (an ECG-only cohort)
            if groups and not any(modality in group for group in groups):
                held = ", ".join(m.upper() for m in cohort_file.cohort_modalities(handle)) or "no signal"
                raise InputError(f"{self.path}: {modality.upper()} is needed but the cohort holds only {held}")
        for rid in chosen:
            group = handle["recordings"][rid]
            for modality in self.modalities:
                if modality not in group:
                    raise InputError(f"{self.path}: recording {rid!r} has no {modality.upper()} signal")
        return chosen

    def _index_items(self, handle) -> None:
        recs, epochs, starts, labels = [], [], [], []
        for index, rid in enumerate(self.recordings):
            table = cohort_file.read_epochs(handle, rid)
            n_samples = handle["recordings"][rid][self.modalities[0]].shape[0]
            centre = table.onset + table.duration / 2
            start = np.round((centre - self.window_s / 2) * self.file_sfreq).astype(np.int64)
            label = to_classes(table.stage, self.n_classes)
            if self.recordings[index] in self.unscored:
                label = np.full(label.shape, UNSCORED_NIGHT, dtype=label.dtype)
            keep = np.flatnonzero((label != IGNORED) & (start >= 0) & (start + self._file_times <= n_samples))
            recs.append(np.full(keep.size, index, dtype=np.int64))
            epochs.append(keep.astype(np.int64))
            starts.append(start[keep])
            labels.append(label[keep])
        concat = lambda parts: np.concatenate(parts) if parts else np.zeros(0, np.int64)  # noqa: E731
        self._rec, self._epoch, self._start = concat(recs), concat(epochs), concat(starts)
        self.labels = concat(labels)

    def _setup_resampling(self) -> None:
        """Windows are resampled by ingest's own resampler, read with its filter's reach either side."""
        self._up, self._down = rate_ratio(self.file_sfreq, self.sfreq)
        if self._up == self._down:
            self._margin = 0
            return
        self._resampler = resampler(self._up, self._down)
        # A multiple of `down` so the window start falls on an output sample.
        self._margin = self._down * -(-self._resampler.reach // self._down)

    def __len__(self) -> int:
        return int(self.labels.size)

    @property
    def scored_labels(self) -> np.ndarray:
        """The class labels (>= 0) of the scored items, for class weights and checks."""
        return self.labels[self.labels >= 0]

    def _dataset(self, rec: int, modality: str):
        if self._pid != os.getpid():  # first use in this process (or a forked worker)
            self._handle = cohort_file.open_cohort(self.path)
            self._pid = os.getpid()
            self._datasets = {}
        key = (rec, modality)
        if key not in self._datasets:
            self._datasets[key] = self._handle["recordings"][self.recordings[rec]][modality]
        return self._datasets[key]

    def _read(self, rec: int, modality: str, start: int) -> np.ndarray:
        data = self._dataset(rec, modality)
        if not self._margin:
            return data[start:start + self.n_times]
        lo, hi = start - self._margin, start + self._file_times + self._margin
        chunk = data[max(lo, 0):min(hi, data.shape[0])]
        if lo < 0 or hi > data.shape[0]:
            chunk = np.pad(chunk, (max(-lo, 0), max(hi - data.shape[0], 0)), mode="edge")
        out = self._resampler(chunk)
        first = self._margin * self._up // self._down
        return out[first:first + self.n_times].astype(np.float32, copy=False)

    def __getitem__(self, index: int) -> dict:
        """One window: ``{modality: (1, n_times) float32, "label", "recording", "epoch": int64}``."""
        return self.__getitems__([index])[0]

    def __getitems__(self, indices) -> list[dict]:
        """The items of ``indices`` (see :meth:`__getitem__`), read as one batch.

        PyTorch's DataLoader calls this with a whole batch of indices: one (B, n_times) array per
        modality, normalised at once, and the labels taken by one index, cost about a quarter of
        64 separate calls (docs/speed.md). The items are views into those arrays, and
        ``default_collate`` stacks them as before.
        """
        index = np.asarray(indices, dtype=np.int64)
        signals = {modality: torch.from_numpy(self._batch(modality, index)[:, None, :]) for modality in self.modalities}
        labels = torch.from_numpy(self.labels[index].astype(np.int64))
        recordings, epochs = torch.from_numpy(self._rec[index]), torch.from_numpy(self._epoch[index])
        return [{**{m: signals[m][k] for m in self.modalities}, "label": labels[k], "recording": recordings[k],
                 "epoch": epochs[k]} for k in range(index.size)]

    def _batch(self, modality: str, index: np.ndarray) -> np.ndarray:
        """Normalised windows (B, n_times) float32 of one modality."""
        raw = np.empty((index.size, self.n_times), dtype=np.float32)
        for row, item in enumerate(index):
            rec = int(self._rec[item])
            try:
                raw[row] = self._read(rec, modality, int(self._start[item]))
            except OSError as error:
                raise InputError(f"{self.path}: cannot read recording {self.recordings[rec]!r} ({error})") from None
        bad = np.flatnonzero(~np.isfinite(raw).all(axis=1))
        if bad.size:
            item = int(index[bad[0]])
            raise InputError(
                f"{self.path}: recording {self.recordings[int(self._rec[item])]!r} holds NaN or infinite "
                f"{modality.upper()} samples in epoch {int(self._epoch[item])} "
                "(expected finite signals, as ingest writes them)")
        return np.ascontiguousarray(normalize_rows(raw, self.normalization), dtype=np.float32)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.update(_handle=None, _pid=None, _datasets={})  # h5py handles do not pickle
        return state

    def close(self) -> None:
        if self._handle is not None and self._pid == os.getpid():
            self._handle.close()
        self._handle, self._pid, self._datasets = None, None, {}
