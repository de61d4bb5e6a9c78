"""From a resolved config to the cohort file, its subject splits, datasets and DataLoaders."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from sleep_kd.data.dataset import CohortWindows
from sleep_kd.data.sequences import CohortSequences
from sleep_kd.data.splits import (make_splits, scored_subjects, unscored_in_cohort, unscored_recordings,
                                  validation_subset)
from sleep_kd.errors import InputError

DEFAULT_COHORT_TAG = "synthetic-default"


def cohort_path(config: Mapping, *, announce: Callable[[str], None] = print) -> Path:
    """The HDF5 cohort of a run: ``data.path``, or the embedded default (built on first use)."""
    if config["data"]["path"]:
        path = Path(config["data"]["path"])
        if not path.is_file():
            raise InputError(f"data file {path} does not exist (make one with python -m sleep_kd.data.ingest)")
        return path
    from sleep_kd.data.default_cohort import ensure_default_cohort

    return ensure_default_cohort(announce=announce)


def cohort_tag(config: Mapping) -> str:
    """Short name of the cohort for run folders: the file's stem, or ``synthetic-default``."""
    return Path(config["data"]["path"]).stem if config["data"]["path"] else DEFAULT_COHORT_TAG


def split_recordings(path: Path, config: Mapping) -> dict[str, list[str]]:
    """Recording ids of the train, val and test splits (by subject) for the config's split rule.

    Nothing is written beside the cohort (its folder may be read-only); the trainer keeps the
    split in the run folder and every checkpoint.
    """
    data = config["data"]
    parts = make_splits(path, method=data["split"], seed=data["split_seed"], k=data["folds"], fold=data["fold"])
    nobody = unscored_in_cohort(path)  # nights nobody scored only ever train
    splits = {name: [rid for rid in parts[name] if name == "train" or rid not in nobody]
              for name in ("train", "val", "test")}
    splits["val"] = validation_subset(path, splits["val"], count=data["val_subjects"], seed=data["split_seed"])
    return splits


@dataclass(frozen=True)
class TrainingScoring:
    """Which training subjects keep their stages, the training recordings a run reads, and which of
    those it uses as nights nobody scored (``data.scored_subjects``)."""

    scored_subjects: list[str]
    recordings: list[str]
    unscored: list[str]

    def record(self) -> dict:
        """What ``splits.json`` and every checkpoint keep of it."""
        return {"scored_subjects": list(self.scored_subjects), "unscored_recordings": list(self.unscored)}


def training_scoring(path: Path, train: Sequence[str], config: Mapping, strategy) -> TrainingScoring:
    """The K scored training subjects (``data.scored_subjects``; 0 = all) and what the run reads.

    A strategy that learns from its teacher alone (:attr:`Strategy.sees_unscored`) reads every
    training recording, the unscored subjects' nights as unscored; any other reads the scored
    subjects' nights only. Validation and test are never touched: they stay fully scored.
    """
    data = config["data"]
    scored = scored_subjects(path, list(train), count=data["scored_subjects"], seed=data["split_seed"])
    unscored = unscored_recordings(path, list(train), scored)
    if strategy.sees_unscored:
        return TrainingScoring(scored, list(train), unscored)
    return TrainingScoring(scored, [rid for rid in train if rid not in set(unscored)], [])


def recordings_content_id(path: Path, recordings: Sequence[str]) -> str:
    """A digest of what the given recordings hold for scoring: ids, rate, signal lengths, epoch tables.

    Two cohorts give the same id for a set of recordings only if those nights are scored alike;
    the signal samples themselves are not read (that would cost a pass over the whole file).
    """
    from sleep_kd.data import cohort_file as store

    digest = hashlib.sha256()
    with store.open_cohort(path) as handle:
        digest.update(repr(float(handle.attrs["sfreq"])).encode())
        known = set(store.recording_ids(handle))
        for rid in sorted(recordings):
            digest.update(rid.encode() + b"\0")
            if rid not in known:
                digest.update(b"missing")
                continue
            group = handle["recordings"][rid]
            for modality in sorted(k for k in group.keys() if k != "epochs"):
                digest.update(f"{modality}:{group[modality].shape[0]}".encode())
            table = store.read_epochs(handle, rid)
            for column in (table.onset, table.duration, table.stage):
                digest.update(np.ascontiguousarray(column).tobytes())
    return digest.hexdigest()[:16]


def require_scored(dataset: CohortWindows, *, split: str) -> None:
    """Refuse a split with no scored window, naming it and its recordings (before any training);
    windows of nights used as unscored do not count."""
    if dataset.scored_labels.size == 0:
        names = ", ".join(dataset.recordings[:5]) + (" ..." if len(dataset.recordings) > 5 else "")
        raise InputError(f"{dataset.path}: the {split} split has no scored window (recordings: {names or 'none'}); "
                         f"each needs epochs with a stage of data.n_classes={dataset.n_classes} and "
                         f"{dataset.window_s:g} s of signal around them")


class EpochShuffleSampler(Sampler[int]):
    """A random permutation per epoch that depends only on (seed, epoch).

    Unlike a sampler driven by the global RNG, a resumed run replays exactly the order the
    interrupted run would have used, which is what makes resumed and uninterrupted runs equal.
    """

    def __init__(self, n_items: int, *, seed: int, per_epoch: int = 0) -> None:
        """``per_epoch`` > 0: each epoch takes only the first ``per_epoch`` items of its permutation
        (a new random subset every epoch); 0 = all ``n_items``."""
        self.n_items = n_items
        self.seed = seed
        self.epoch = 0
        self.per_epoch = min(per_epoch, n_items) if per_epoch else n_items

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.n_items, generator=generator)[:self.per_epoch].tolist())

    def __len__(self) -> int:
        return self.per_epoch


class SequenceShuffleSampler(EpochShuffleSampler):
    """:class:`EpochShuffleSampler` over a :class:`CohortSequences` whose indices carry the epoch.

    The epoch rides in the index (``dataset.item_index``), so DataLoader workers, which hold
    their own copy of the dataset, cut the epoch's sequences at its offsets too.
    """

    def __init__(self, dataset: CohortSequences, *, seed: int, per_epoch: int = 0) -> None:
        super().__init__(len(dataset), seed=seed, per_epoch=per_epoch)
        self.dataset = dataset

    def __iter__(self) -> Iterator[int]:
        return (self.dataset.item_index(item, self.epoch) for item in super().__iter__())


def make_dataset(path: Path, recordings: Sequence[str], config: Mapping, *, sfreq: float,
                 modalities: Sequence[str], context_epochs: int = 0, train: bool = False,
                 unscored: Sequence[str] = ()) -> CohortWindows:
    """Lazy windows of the given recordings, prepared for a model at ``sfreq`` Hz.

    With ``context_epochs`` T > 0, sequences of T epochs (:class:`CohortSequences`) in the
    training layout when ``train``, else in the evaluation layout (every scored epoch once).
    """
    data = config["data"]
    options = dict(n_classes=data["n_classes"], recordings=list(recordings), sfreq=sfreq,
                   window_s=data["window_s"], normalization=data["normalization"], modalities=tuple(modalities),
                   unscored=tuple(unscored))
    if context_epochs:
        return CohortSequences(path, context_epochs=context_epochs, train=train, seed=config["seed"], **options)
    return CohortWindows(path, **options)


def make_loader(dataset: CohortWindows, config: Mapping, *, shuffle: bool, pin_memory: bool,
                whole_batches: bool = False) -> DataLoader:
    """A DataLoader; shuffled loaders use :class:`EpochShuffleSampler` seeded by ``config.seed``.

    ``train.batch_size`` counts epochs: a loader of T-epoch sequences takes ``batch_size // T``
    (at least 1) sequences per batch, so a step costs about the same with and without context.
    ``train.windows_per_epoch`` (> 0) counts epochs too: a shuffled loader draws that many scored
    windows (``// T`` sequences) at random each epoch instead of all of them.
    ``whole_batches``: leave out the last, partial batch of each epoch (a compiled step keeps one
    batch shape; a new shape would compile again), unless an epoch holds less than one batch.
    """
    workers = config["data"]["num_workers"]
    sequences = isinstance(dataset, CohortSequences)
    per_sequence = dataset.context_epochs if sequences else 1
    batch_size = max(1, config["train"]["batch_size"] // per_sequence)
    per_epoch = max(1, config["train"]["windows_per_epoch"] // per_sequence) if config["train"]["windows_per_epoch"] \
        else 0
    if not shuffle:
        sampler = None
    elif sequences:
        sampler = SequenceShuffleSampler(dataset, seed=config["seed"], per_epoch=per_epoch)
    else:
        sampler = EpochShuffleSampler(len(dataset), seed=config["seed"], per_epoch=per_epoch)
    drop_last = whole_batches and len(sampler if sampler is not None else dataset) >= batch_size
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, shuffle=False,
                      num_workers=workers, pin_memory=pin_memory, persistent_workers=workers > 0,
                      drop_last=drop_last, worker_init_fn=leave_stop_signals_to_the_trainer if workers else None)


def leave_stop_signals_to_the_trainer(worker_id: int) -> None:
    """In a loader worker: ignore Ctrl-C and SIGTERM, which reach the whole process group.

    The training process stops at its next optimizer step and saves its state
    (:mod:`sleep_kd.engine.interrupt`); a worker that died of the same signal first would turn
    that into a "worker exited unexpectedly" error. Workers still end when the loader shuts
    them down, or when their parent is gone.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def balanced_weights(labels: np.ndarray, n_classes: int) -> torch.Tensor:
    """Class weights N / (K * count_k) of the training labels (sklearn's "balanced" rule)."""
    from sleep_kd.losses import balanced_class_weights

    return torch.as_tensor(balanced_class_weights(np.asarray(labels), n_classes), dtype=torch.float32)
