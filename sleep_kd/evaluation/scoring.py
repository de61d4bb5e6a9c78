"""Score a checkpoint on a split of a cohort, from the checkpoint alone (no teacher, no run folder)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from sleep_kd.data.dataset import CohortWindows
from sleep_kd.data import cohort_file as store
from sleep_kd.data.preparation import Preparation, read_preparation
from sleep_kd.data.splits import make_splits
from sleep_kd.fast import for_scoring
from sleep_kd.engine.data import recordings_content_id, require_scored
from sleep_kd.engine.checkpoint import Checkpoint
from sleep_kd.engine.restore import model_from_checkpoint
from sleep_kd.engine.validation import Predictions, predict
from sleep_kd.errors import InputError
from sleep_kd.evaluation.live import whole_nights
from sleep_kd.evaluation.night_scoring import night_logits, whole_night_logits
from sleep_kd.evaluation.precision import DEFAULT_BATCH, scoring_precision, trained_precision
from sleep_kd.metrics.scores import score_predictions
from sleep_kd.models import context_epochs_of

SPLITS = ("train", "val", "test", "all")


class Scored(NamedTuple):
    """What :func:`predict_checkpoint` returns."""

    predictions: Predictions
    dataset: CohortWindows
    checkpoint: Checkpoint
    precision: str  # autocast used: no, bf16 or fp16


def split_of(path: Path, prep: Preparation, split: str) -> list[str] | None:
    """Recording ids to score: the checkpoint's own recorded ``split`` (None = every recording).

    A checkpoint records its split's recording ids and a content id of each split
    (:func:`~sleep_kd.engine.data.recordings_content_id`). ``test``/``val``/``train`` score exactly
    those recordings, and are refused on a cohort where they are not all there or hold other
    nights; ``all`` scores everything and says which of the scored recordings were trained on.
    Checkpoints from before splits were recorded fall back to re-deriving the split by its rule.
    """
    if split not in SPLITS:
        raise InputError(f"--split must be one of {', '.join(SPLITS)}, got '{split}'")
    recorded = prep.splits
    if recorded is None:
        if split == "all":
            return None
        return list(make_splits(path, method=prep.split, seed=prep.split_seed, k=prep.folds, fold=prep.fold)[split])
    with store.open_cohort(path) as handle:
        present = store.recording_ids(handle)
    if split == "all":
        trained = sorted(set(present) & set(recorded.get("train", [])))
        if trained:
            print(f"[sleep_kd] note: {len(trained)} of the {len(present)} recordings scored were in the "
                  f"checkpoint's training split ({_some(trained)}): their scores are not held out", file=sys.stderr)
        return None
    wanted = list(recorded.get(split, []))
    missing = sorted(set(wanted) - set(present))
    if missing:
        raise InputError(f"{path}: the checkpoint's {split} split cannot be reproduced here: its recordings "
                         f"{_some(missing)} are not in this cohort (it was trained on {prep.path or '?'}); "
                         "pass --split all to score every recording")
    expected = prep.split_content_ids.get(split)
    if expected is not None and recordings_content_id(path, wanted) != expected:
        raise InputError(f"{path}: the checkpoint's {split} split cannot be reproduced here: recordings of those "
                         f"names hold other nights than it was trained on ({prep.path or '?'}); "
                         "pass --split all to score every recording")
    unseen = sorted(set(present) - {r for ids in recorded.values() for r in ids})
    if unseen:
        print(f"[sleep_kd] note: {path} has {len(unseen)} recordings outside the checkpoint's splits "
              f"({_some(unseen)}); scoring only its {split} split", file=sys.stderr)
    return wanted


def _some(ids: list[str], shown: int = 5) -> str:
    return ", ".join(ids[:shown]) + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def predict_checkpoint(checkpoint_dir: str | Path, *, data: str | Path | None = None, split: str = "test",
                       batch_size: int = DEFAULT_BATCH, cpu: bool = False, precision: str = "auto",
                       probabilities: bool = False):
    """Predictions of a checkpoint on a split: ``Scored(predictions, dataset, checkpoint, precision)``.

    Parameters
    ----------
    checkpoint_dir : a folder with model.safetensors, config.json (as train_loop.py writes).
    data : HDF5 cohort; default: the cohort the checkpoint was trained on.
    split : train, val, test (the checkpoint's own subject split) or all.
    precision : auto, no, bf16 or fp16 (see :func:`scoring_precision`); ``Scored.precision`` is
        the one used.
    probabilities : also keep each epoch's softmax in ``predictions.probabilities`` (n, classes).
    """
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState

    model, checkpoint = model_from_checkpoint(checkpoint_dir)
    prep = read_preparation(checkpoint.config, checkpoint=checkpoint.path)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise InputError(f"--batch-size must be a positive integer, got {batch_size!r}")
    precision = scoring_precision(precision, trained_precision(checkpoint.config),
                                  cuda=torch.cuda.is_available() and not cpu)
    path = Path(data) if data is not None else Path(prep.path or "")
    if not path.is_file():
        raise InputError(f"cohort file {path} does not exist (pass --data FILE.h5)")
    dataset, items_per_batch = _scoring_items(model, path, prep, split=split, batch_size=batch_size)
    require_scored(dataset, split=split)
    # Accelerate's state is process-wide: a process that trained first (a study, a notebook) would
    # hand its device and precision on. Start from a fresh one (the process group is kept); autocast
    # is set per checkpoint below.
    AcceleratorState._reset_state(reset_partial_state=False)
    GradientState._reset_state()
    accelerator = Accelerator(cpu=cpu)
    loader = torch.utils.data.DataLoader(dataset, batch_size=items_per_batch, shuffle=False)
    # A frozen copy (channels-last, BatchNorm folded: sleep_kd.fast). No parameters, so it is
    # moved, not prepared: DDP has nothing to synchronise (the loader still shards the items).
    model = for_scoring(model).to(accelerator.device)
    loader = accelerator.prepare(loader)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    whole = context_epochs_of(model) > 0

    def forward(batch):  # every model call goes through night_logits, as sleep_kd.predict's do
        windows = batch[prep.modality]
        with torch.autocast(accelerator.device.type, dtype=dtype, enabled=dtype is not None):
            if whole:
                return {"logits": whole_night_logits(model, windows, batch["epoch"], batch_size=batch_size)}
            return {"logits": night_logits(model, windows, batch_size=batch_size).float()}

    predictions = predict(accelerator, loader, forward, probabilities=probabilities)
    return Scored(predictions, dataset, checkpoint, precision)


def _scoring_items(model, path: Path, prep: Preparation, *, split: str, batch_size: int):
    """The dataset a model is scored on, and its items per loader batch.

    A one-window model reads ``batch_size`` windows per batch; a context model one whole night per
    item (:func:`~sleep_kd.evaluation.live.whole_nights`), scored by
    :func:`~sleep_kd.evaluation.night_scoring.night_logits` as ``sleep_kd.predict`` scores a night.
    """
    options = dict(n_classes=prep.n_classes, recordings=split_of(path, prep, split), sfreq=prep.sfreq,
                   window_s=prep.window_s, normalization=prep.normalization, modalities=(prep.modality,))
    context = context_epochs_of(model)
    if context:
        return whole_nights(path, context_epochs=context, **options), 1
    return CohortWindows(path, **options), batch_size


def report_of(scored: Scored, *, split: str) -> dict:
    """The contract's report of one scored checkpoint, plus ``strategy``, ``model`` (its preset),
    ``checkpoint``, ``data``, ``split``, ``modality`` and ``precision``."""
    predictions, dataset, checkpoint, precision = scored
    subjects = np.asarray(dataset.subjects)[predictions.recording]
    report = score_predictions(predictions.y_true, predictions.y_pred, class_names=dataset.class_names,
                               subjects=subjects)
    report.update(strategy=checkpoint.config.get("strategy", "?"),
                  model=checkpoint.config.get("model", {}).get("name", "?"), checkpoint=str(checkpoint.path),
                  data=str(dataset.path), split=split,
                  modality=dataset.modalities[0], precision=precision)
    return report


def evaluate_checkpoint(checkpoint_dir: str | Path, *, data: str | Path | None = None, split: str = "test",
                        batch_size: int = DEFAULT_BATCH, cpu: bool = False, precision: str = "auto") -> dict:
    """Every figure of the contract's report for one checkpoint (:func:`report_of` of
    :func:`predict_checkpoint`)."""
    scored = predict_checkpoint(checkpoint_dir, data=data, split=split, batch_size=batch_size, cpu=cpu,
                                precision=precision)
    return report_of(scored, split=split)
