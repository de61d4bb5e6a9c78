"""From a resolved config to the cohort file, its subject splits, datasets and DataLoaders."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from sleep_kd.data.dataset import CohortWindows
from sleep_kd.data.sequences import CohortSequences
from sleep_kd.data.splits import make_splits
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


def split_recordings(path: Path, config: Mapping, *, save: bool = True) -> dict[str, list[str]]:
    """Recording ids of the train, val and test splits (by subject) for the config's split rule.

    ``save`` writes the split JSON next to the cohort (the main process only, under several).
    """
    data = config["data"]
    return make_splits(path, method=data["split"], seed=data["split_seed"], k=data["folds"], fold=data["fold"],
                       save=save)


class EpochShuffleSampler(Sampler[int]):
    """A random permutation per epoch that depends only on (seed, epoch).

    Unlike a sampler driven by the global RNG, a resumed run replays exactly the order the
    interrupted run would have used, which is what makes resumed and uninterrupted runs equal.
    """

    def __init__(self, n_items: int, *, seed: int) -> None:
        self.n_items = n_items
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.n_items, generator=generator).tolist())

    def __len__(self) -> int:
        return self.n_items


class SequenceShuffleSampler(EpochShuffleSampler):
    """:class:`EpochShuffleSampler` over a :class:`CohortSequences` whose indices carry the epoch.

    The epoch rides in the index (``dataset.item_index``), so DataLoader workers, which hold
    their own copy of the dataset, cut the epoch's sequences at its offsets too.
    """

    def __init__(self, dataset: CohortSequences, *, seed: int) -> None:
        super().__init__(len(dataset), seed=seed)
        self.dataset = dataset

    def __iter__(self) -> Iterator[int]:
        return (self.dataset.item_index(item, self.epoch) for item in super().__iter__())


def make_dataset(path: Path, recordings: Sequence[str], config: Mapping, *, sfreq: float,
                 modalities: Sequence[str], context_epochs: int = 0, train: bool = False) -> CohortWindows:
    """Lazy windows of the given recordings, prepared for a model at ``sfreq`` Hz.

    With ``context_epochs`` T > 0, sequences of T epochs (:class:`CohortSequences`) in the
    training layout when ``train``, else in the evaluation layout (every scored epoch once).
    """
    data = config["data"]
    options = dict(n_classes=data["n_classes"], recordings=list(recordings), sfreq=sfreq,
                   window_s=data["window_s"], normalization=data["normalization"], modalities=tuple(modalities))
    if context_epochs:
        return CohortSequences(path, context_epochs=context_epochs, train=train, seed=config["seed"], **options)
    return CohortWindows(path, **options)


def make_loader(dataset: CohortWindows, config: Mapping, *, shuffle: bool, pin_memory: bool) -> DataLoader:
    """A DataLoader; shuffled loaders use :class:`EpochShuffleSampler` seeded by ``config.seed``.

    ``train.batch_size`` counts epochs: a loader of T-epoch sequences takes ``batch_size // T``
    (at least 1) sequences per batch, so a step costs about the same with and without context.
    """
    workers = config["data"]["num_workers"]
    sequences = isinstance(dataset, CohortSequences)
    batch_size = max(1, config["train"]["batch_size"] // dataset.context_epochs) if sequences else \
        config["train"]["batch_size"]
    if not shuffle:
        sampler = None
    elif sequences:
        sampler = SequenceShuffleSampler(dataset, seed=config["seed"])
    else:
        sampler = EpochShuffleSampler(len(dataset), seed=config["seed"])
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, shuffle=False,
                      num_workers=workers, pin_memory=pin_memory, persistent_workers=workers > 0,
                      drop_last=False)


def balanced_weights(labels: np.ndarray, n_classes: int) -> torch.Tensor:
    """Class weights N / (K * count_k) of the training labels (sklearn's "balanced" rule)."""
    from sleep_kd.losses import balanced_class_weights

    return torch.as_tensor(balanced_class_weights(np.asarray(labels), n_classes), dtype=torch.float32)
