"""Items of T consecutive epochs of one recording, for the context networks (``sleep_kd.models.context``).

Every epoch of a recording keeps its place on the timeline, scored or not: unscored and movement
epochs, and epochs whose centred window runs off the recording, stay in the sequence (their
window, or zeros when it runs off) with label -1, which every loss and metric masks out. Reading
and normalising are :class:`~sleep_kd.data.dataset.CohortWindows`' own, window by window, so an
R&K 20-s epoch keeps its centred 30-s window as without context.

Two layouts:

- training: each recording is cut into ``ceil(n / T) + 1`` sequences starting at ``k * T - s``,
  with a new random offset ``s`` in [0, T) per recording and training epoch (from the seed and the
  epoch alone, so a resumed run replays it). Over the epochs each scored epoch appears at every
  position; positions before the recording's start are padding (zeros, label -1), and a sequence
  that would start past the end is moved to end with the recording instead.
- evaluation: sequences at 0, T, 2T, ..., the last one moved back to end with the recording; the
  epochs it repeats are labelled -1 there, so every scored epoch is scored exactly once.
"""

from __future__ import annotations

import numpy as np
import torch

from sleep_kd.data.dataset import CohortWindows, normalize_rows
from sleep_kd.data import cohort_file as store
from sleep_kd.data.stages import IGNORED, UNSCORED_NIGHT, to_classes
from sleep_kd.errors import InputError


class CohortSequences(CohortWindows):
    """Sequences of ``context_epochs`` consecutive epochs of a cohort file.

    Parameters
    ----------
    path, n_classes, recordings, sfreq, window_s, normalization, modalities
        As :class:`CohortWindows` (each window is normalised on its own).
    context_epochs : int
        T, epochs per item.
    train : bool
        The training layout (random offsets; the item index carries the epoch, see
        :meth:`item_index`) or the evaluation layout (every scored epoch once).
    seed : int
        Seeds the training offsets.

    Items are dicts: ``eeg``/``ecg`` float32 (T, 1, n_times); ``label`` (T,) int64, -1 where not
    counted, -2 on a night used as unscored (``unscored``); ``recording`` (T,) and ``epoch`` (T,)
    int64 (epoch -1 for padding). :attr:`labels` holds every scored label of the chosen recordings
    once (for class weights).
    """

    def __init__(self, path, *, context_epochs: int, train: bool, seed: int = 0, **options) -> None:
        if isinstance(context_epochs, bool) or not isinstance(context_epochs, int) or context_epochs <= 0:
            raise InputError(f"context_epochs must be a positive integer, got {context_epochs!r}")
        self.context_epochs = context_epochs
        self.train = bool(train)
        self.seed = int(seed)
        super().__init__(path, **options)

    def _index_items(self, handle) -> None:
        starts, labels, sizes = [], [], []
        for rid in self.recordings:
            table = store.read_epochs(handle, rid)
            n_samples = handle["recordings"][rid][self.modalities[0]].shape[0]
            centre = table.onset + table.duration / 2
            start = np.round((centre - self.window_s / 2) * self.file_sfreq).astype(np.int64)
            label = to_classes(table.stage, self.n_classes).astype(np.int64)
            if rid in self.unscored:
                label[:] = UNSCORED_NIGHT
            fits = (start >= 0) & (start + self._file_times <= n_samples)
            label[~fits] = IGNORED
            starts.append(np.where(fits, start, -1))
            labels.append(label)
            sizes.append(label.size)
        self._starts, self._labels = starts, labels
        self._sizes = np.asarray(sizes, dtype=np.int64)
        scored = [lab[lab >= 0] for lab in labels]
        self.labels = np.concatenate(scored) if scored else np.zeros(0, np.int64)
        self.n_unscored = int(sum((lab == UNSCORED_NIGHT).sum() for lab in labels))
        T = self.context_epochs
        per_recording = -(-self._sizes // T) + (1 if self.train else 0)
        self._item_rec = np.repeat(np.arange(len(self.recordings)), per_recording)
        self._item_k = np.concatenate([np.arange(n) for n in per_recording]) if len(per_recording) else \
            np.zeros(0, np.int64)

    def __len__(self) -> int:
        return int(self._item_rec.size)

    @property
    def n_scored(self) -> int:
        """Scored epochs of the chosen recordings (each counted once in evaluation)."""
        return int(self.labels.size)

    def item_index(self, item: int, epoch: int) -> int:
        """The index a sampler passes for ``item`` in training epoch ``epoch`` (the epoch rides along)."""
        return epoch * len(self) + item

    def offsets(self, epoch: int) -> np.ndarray:
        """The training offsets s (one per recording, in [0, T)) of a training epoch."""
        rng = np.random.default_rng([self.seed, epoch])
        return rng.integers(0, self.context_epochs, size=len(self.recordings))

    def positions(self, index: int) -> tuple[int, np.ndarray, np.ndarray]:
        """Recording, epoch positions (T,) (may run off either end) and the counted mask (T,) of an item."""
        epoch, item = divmod(int(index), len(self))
        rec, k = int(self._item_rec[item]), int(self._item_k[item])
        n, T = int(self._sizes[rec]), self.context_epochs
        counted = np.ones(T, dtype=bool)
        if self.train:
            start = k * T - int(self.offsets(epoch)[rec])
            if start >= n:
                start = n - T
        else:
            start = k * T
            if start + T > n and n >= T:  # the last one ends with the recording; its repeats are not counted
                start = n - T
                counted[: k * T - start] = False
        return rec, start + np.arange(T), counted

    def __getitems__(self, indices) -> list[dict]:
        """The items of ``indices`` (see the class docstring), read window by window."""
        items = []
        for index in indices:
            rec, pos, counted = self.positions(index)
            inside = (pos >= 0) & (pos < self._sizes[rec])
            safe = np.where(inside, pos, 0)
            window_start = np.where(inside, self._starts[rec][safe], -1)
            label = np.where(inside & counted, self._labels[rec][safe], IGNORED)
            item = {m: torch.from_numpy(self._sequence(rec, m, window_start)[:, None, :]) for m in self.modalities}
            item.update(label=torch.from_numpy(label.astype(np.int64)),
                        recording=torch.full((pos.size,), rec, dtype=torch.int64),
                        epoch=torch.from_numpy(np.where(inside, pos, -1).astype(np.int64)))
            items.append(item)
        return items

    def epoch_windows(self, recording: int, epochs: np.ndarray, modality: str) -> torch.Tensor:
        """The normalised windows (n, 1, n_times) of ``epochs`` of recording index ``recording``: what
        the per-epoch encoder reads for them inside any sequence (for per-epoch features)."""
        epochs = np.asarray(epochs, dtype=np.int64)
        starts = self._starts[recording][epochs]
        if (starts < 0).any():
            raise InputError(f"{self.path}: recording {self.recordings[recording]!r} epoch "
                             f"{int(epochs[starts < 0][0])} has no whole window")
        return torch.from_numpy(self._sequence(recording, modality, starts)[:, None, :])

    def _sequence(self, rec: int, modality: str, window_start: np.ndarray) -> np.ndarray:
        """Normalised windows (T, n_times) float32; zeros where ``window_start`` is -1."""
        raw = np.zeros((window_start.size, self.n_times), dtype=np.float32)
        for row, start in enumerate(window_start):
            if start < 0:
                continue
            try:
                raw[row] = self._read(rec, modality, int(start))
            except OSError as error:
                raise InputError(f"{self.path}: cannot read recording {self.recordings[rec]!r} ({error})") from None
        if not np.isfinite(raw).all():
            row = int(np.flatnonzero(~np.isfinite(raw).all(axis=1))[0])
            raise InputError(f"{self.path}: recording {self.recordings[rec]!r} holds NaN or infinite "
                             f"{modality.upper()} samples in a window starting at sample {int(window_start[row])} "
                             "(expected finite signals, as ingest writes them)")
        return np.ascontiguousarray(normalize_rows(raw, self.normalization), dtype=np.float32)
