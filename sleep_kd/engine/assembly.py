"""Assemble one run from its config: cohort, datasets, loaders, student, frozen teacher, optimizer, step."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader

from sleep_kd.data.cohort_file import recording_leads, require_modalities
from sleep_kd.data.dataset import CohortWindows
from sleep_kd.engine.data import (balanced_weights, cohort_path, make_dataset, make_loader, recordings_content_id,
                                  require_scored, split_recordings, training_scoring,
                                  TrainingScoring)
from sleep_kd.engine.restore import check_compatible, model_from_checkpoint
from sleep_kd.errors import InputError
from sleep_kd.fast import for_training
from sleep_kd.models import context_epochs_of, create_model
from sleep_kd.models.context import SEQUENCE_MODEL_KEYS, encoder_config
from sleep_kd.strategies import Strategy, StrategyStep, build_step, freeze


@dataclass
class RunParts:
    """Everything the loop iterates with; model, optimizer and loaders already prepared by Accelerate."""

    path: Path
    splits: dict[str, list[str]]  # recording ids of train, val, test
    train_set: CohortWindows
    val_set: CohortWindows
    train_loader: DataLoader
    val_loader: DataLoader
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    step: StrategyStep
    val_step: StrategyStep  # the same step over the eager student (it differs with train.compile)
    scoring: TrainingScoring | None = None  # scored subjects and unscored nights of the training split


def load_prerequisite(config: Mapping, role: str, model_config: Mapping, *, modality: str) -> torch.nn.Module | None:
    """The teacher or starting checkpoint named in ``paths.<role>``: the run's own model, reading
    ``modality`` with the run's window and normalisation."""
    path = config["paths"][role]
    if path is None:
        return None
    model, checkpoint = model_from_checkpoint(path)
    if role == "teacher" and "context_epochs" in model_config and not context_epochs_of(model):
        model_config = encoder_config(dict(model_config))  # a single-window teacher: the student's encoder
    elif role == "teacher":  # its own sequence model (a bidirectional teacher of a causal student)
        model_config = {**model_config, **{k: model.config[k] for k in SEQUENCE_MODEL_KEYS if k in model.config}}
    check_compatible(checkpoint, role=role, n_classes=config["data"]["n_classes"], model_config=model_config,
                     preparation={"modality": modality, "sfreq": float(model_config["sfreq"]),
                                  "window_s": config["data"]["window_s"],
                                  "normalization": config["data"]["normalization"]})
    return model


def start_encoder(model: torch.nn.Module, config: Mapping, *, modality: str) -> None:
    """Load the single-window checkpoint ``paths.encoder_init`` into a context model's per-epoch encoder.

    The checkpoint must be the encoder's own preset and options, trained on ``modality`` with the
    run's window and normalisation; the sequence model keeps its zero head, so the run starts at
    the checkpoint's scores.
    """
    path = config["paths"]["encoder_init"]
    if not context_epochs_of(model):
        raise InputError(f"paths.encoder_init {path}: starts the per-epoch encoder of a context model, and "
                         f"{model.config['name']} has none; use paths.init for a single-window model")
    source, checkpoint = model_from_checkpoint(path)
    if context_epochs_of(source):
        raise InputError(f"paths.encoder_init {path}: is a context model ({source.config['name']}); it takes a "
                         "single-window checkpoint (paths.init takes a whole context model)")
    check_compatible(checkpoint, role="encoder_init", n_classes=config["data"]["n_classes"],
                     model_config=encoder_config(dict(model.config)),
                     preparation={"modality": modality, "sfreq": float(model.config["sfreq"]),
                                  "window_s": config["data"]["window_s"],
                                  "normalization": config["data"]["normalization"]})
    model.encoder.load_state_dict(source.state_dict())


def check_counts(config: Mapping, train_set: CohortWindows, *, announce: Callable[[str], None]) -> None:
    """Counts the training split bounds: a batch larger than the split is refused (a slip, not a run
    anyone plans); more windows per epoch than the split holds takes all of them, and says so."""
    # Both keys count epochs; a context item holds context_epochs of them (see make_loader).
    windows = len(train_set) * max(1, getattr(train_set, "context_epochs", 0))
    where = f"the training split of {train_set.path}"
    batch_size, per_epoch = config["train"]["batch_size"], config["train"]["windows_per_epoch"]
    if batch_size > windows:
        raise InputError(f"config key 'train.batch_size' is {batch_size}, more than the {windows} windows of "
                         f"{where}; allowed: at most {windows}")
    if per_epoch > windows:
        announce(f"[sleep_kd] note: train.windows_per_epoch is {per_epoch}, more than the {windows} windows of "
                 f"{where}: each epoch takes all of them")


def model_overrides(config: Mapping) -> dict:
    """``model.overrides``, plus ``context_epochs`` when ``model.context_epochs`` is set (not 0)."""
    overrides = dict(config["model"]["overrides"])
    if config["model"]["context_epochs"]:
        overrides["context_epochs"] = config["model"]["context_epochs"]
    return overrides


def build_run(config: Mapping, strategy: Strategy, accelerator: Accelerator, *,
              announce: Callable[[str], None]) -> RunParts:
    """Build and ``prepare`` the parts of a run. The teacher goes to the device but never into DDP."""
    with accelerator.main_process_first():  # the main process builds the default cohort first
        path = cohort_path(config, announce=announce)
    splits = split_recordings(path, config)
    model = create_model(config["model"]["name"], n_classes=config["data"]["n_classes"],
                         window_s=config["data"]["window_s"], **model_overrides(config))
    modalities = strategy.modalities
    require_modalities(path, modalities, what=f"strategy {strategy.name}")
    context = context_epochs_of(model)
    scoring = training_scoring(path, splits["train"], config, strategy)
    train_set = make_dataset(path, scoring.recordings, config, sfreq=model.sfreq, modalities=modalities,
                             context_epochs=context, train=True, unscored=scoring.unscored)
    val_set = make_dataset(path, splits["val"], config, sfreq=model.sfreq, modalities=modalities,
                           context_epochs=context)
    require_scored(train_set, split="train")
    require_scored(val_set, split="val")
    check_counts(config, train_set, announce=announce)
    pin = accelerator.device.type == "cuda"
    train_loader = make_loader(train_set, config, shuffle=True, pin_memory=pin, whole_batches=config["train"]["compile"])
    val_loader = make_loader(val_set, config, shuffle=False, pin_memory=pin)

    start = load_prerequisite(config, "init", model.config, modality=strategy.student_modality) \
        if strategy.init_from else None
    if start is not None:
        model.load_state_dict(start.state_dict())
    elif config["paths"]["encoder_init"] is not None:
        start_encoder(model, config, modality=strategy.student_modality)
    teacher = load_prerequisite(config, "teacher", model.config, modality=strategy.teacher_modality) \
        if strategy.teacher else None
    if teacher is not None:
        teacher = freeze(teacher).to(accelerator.device)
    if config["train"]["fast_training"]:  # equivalent, faster layers; parameters and state_dict keys unchanged
        # accelerator.prepare compiles the student alone (train.compile); the teacher stays eager.
        model = for_training(model, compiled=config["train"]["compile"])
        teacher = teacher if teacher is None else for_training(teacher)
    class_weights = balanced_weights(train_set.scored_labels, config["data"]["n_classes"]).to(accelerator.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["train"]["lr"],
                                 weight_decay=config["train"]["weight_decay"],
                                 fused=accelerator.device.type == "cuda")
    model, optimizer, train_loader, val_loader = accelerator.prepare(model, optimizer, train_loader, val_loader)
    step = build_step(strategy, student=model, teacher=teacher, loss_options=config["loss"],
                      class_weights=class_weights, unscored_nights=bool(scoring.unscored))
    # Validation runs the student eager (the same parameters): a compiled one would compile again for
    # evaluation mode, no_grad and each new batch size, which costs more than it saves.
    eager = getattr(model, "_orig_mod", model)  # under train.compile, the module torch.compile wraps
    val_step = step if eager is model else copy.copy(step)
    val_step.student = eager
    return RunParts(path, splits, train_set, val_set, train_loader, val_loader, model, optimizer, step, val_step,
                    scoring)


def checkpoint_record(config: Mapping, strategy: Strategy, parts: RunParts, model_config: Mapping) -> dict:
    """What every checkpoint's config.json holds: the model and its data preparation, and the run config.

    ``data.leads`` lists the leads the training split was read from and whether ingest inverted each
    (``[{"lead": "ECG ECGI", "inverted": true, "recordings": 8}]``): ``sleep_kd.predict`` reads a
    night's lead the way training read it.
    """
    data = config["data"]
    modality = strategy.student_modality
    return {
        "strategy": strategy.name,
        "model": dict(model_config),
        "data": {"n_classes": data["n_classes"], "class_names": list(parts.train_set.class_names),
                 "sfreq": float(model_config["sfreq"]), "window_s": data["window_s"],
                 "normalization": data["normalization"], "modality": modality,
                 "leads": recording_leads(parts.path, parts.splits["train"], modality),
                 "path": str(parts.path), "split": data["split"], "split_seed": data["split_seed"],
                 "folds": data["folds"], "fold": data["fold"],
                 "context_epochs": int(model_config.get("context_epochs", 0)),
                 # The split itself, so scoring needs no rule to re-derive it (and can tell a cohort that changed).
                 "splits": {name: list(ids) for name, ids in parts.splits.items()},
                 **(parts.scoring.record() if parts.scoring is not None else {}),
                 "split_content_ids": {name: recordings_content_id(parts.path, ids)
                                       for name, ids in parts.splits.items()}},
        "config": dict(config),
    }
