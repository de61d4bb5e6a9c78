"""The training loop: one strategy, one run folder, read top to bottom.

Accelerate handles devices, DDP, mixed precision and gradient accumulation; the strategy step
(``sleep_kd.strategies``) computes the loss terms; this file knows nothing about any one strategy.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable, Mapping

import torch
from accelerate import Accelerator
from accelerate.utils import InitProcessGroupKwargs, set_seed
from tqdm.auto import tqdm

from sleep_kd.engine import runs
from sleep_kd.engine.checkpoint import save_checkpoint
from sleep_kd.engine.config import flatten, save_yaml
from sleep_kd.engine.data import (balanced_weights, cohort_path, cohort_tag, make_dataset, make_loader,
                                  split_recordings)
from sleep_kd.engine.figures import confusion_figure, hypnogram_figure
from sleep_kd.engine.restore import check_compatible, load_weights, model_from_checkpoint
from sleep_kd.engine.validation import predict, validation_metrics
from sleep_kd.errors import InputError
from sleep_kd.metrics.scores import score_predictions
from sleep_kd.models import create_model
from sleep_kd.strategies import build_step, freeze, get_strategy


class NonFiniteLossError(RuntimeError):
    """A loss term went NaN or Inf; the message names the step and the term."""


@dataclass
class RunResult:
    out: Path
    best_metrics: dict
    steps: int


def make_accelerator(config: Mapping, out: Path) -> Accelerator:
    """The run's Accelerator: precision, accumulation, TensorBoard under ``out``, a collective timeout."""
    train = config["train"]
    if train["mixed_precision"] == "fp16" and (train["cpu"] or not torch.cuda.is_available()):
        raise InputError("train.mixed_precision fp16 needs a CUDA GPU (it relies on grad scaling); use bf16 on the CPU")
    timeout = InitProcessGroupKwargs(timeout=timedelta(seconds=train["collective_timeout_s"]))
    return Accelerator(mixed_precision=train["mixed_precision"], gradient_accumulation_steps=train["grad_accum"],
                       cpu=train["cpu"], log_with="tensorboard", project_dir=str(out), kwargs_handlers=[timeout])


def configure_backends(config: Mapping, accelerator: Accelerator) -> None:
    """Fast defaults on CUDA (cudnn autotuning, TF32 on Ampere and later); deterministic on request."""
    if accelerator.device.type == "cuda":
        torch.backends.cudnn.benchmark = not config["train"]["deterministic"]
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if config["train"]["deterministic"]:
        torch.use_deterministic_algorithms(True, warn_only=True)


def learning_rate(config: Mapping, step: int, total_steps: int) -> float:
    """Adam's learning rate at optimizer step ``step`` (constant, or cosine to zero over the run)."""
    base = config["train"]["lr"]
    if config["train"]["lr_schedule"] == "cosine" and total_steps > 0:
        return base * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))
    return base


def load_prerequisite(config: Mapping, role: str, model_config: Mapping) -> torch.nn.Module | None:
    """The teacher or starting checkpoint named in ``paths.<role>`` (resolved before training)."""
    path = config["paths"][role]
    if path is None:
        return None
    model, checkpoint = model_from_checkpoint(path)
    check_compatible(checkpoint, role=role, n_classes=config["data"]["n_classes"], model_config=model_config)
    return model


def train(config: dict, *, resume: Path | None = None, announce: Callable[[str], None] | None = None) -> RunResult:
    """Train one strategy as ``config`` says; return the run folder and the best checkpoint's metrics."""
    strategy = get_strategy(config["strategy"])
    tag = cohort_tag(config)
    out = runs.run_dir(config, tag)
    if resume is not None:
        progress = runs.read_progress(Path(resume))
        runs.check_resume_matches(progress, config, Path(resume))
        out = Path(resume) if (Path(resume) / runs.STATE).is_dir() else Path(resume).parent
    accelerator = make_accelerator(config, out)
    say = announce or accelerator.print
    configure_backends(config, accelerator)
    set_seed(config["seed"])

    # Data: the cohort file (the main process builds the default one), subject splits, lazy windows.
    with accelerator.main_process_first():
        path = cohort_path(config, announce=say)
        splits = split_recordings(path, config)
    model = create_model(config["model"]["name"], n_classes=config["data"]["n_classes"],
                         **config["model"]["overrides"])
    modalities = sorted({strategy.student_modality} | ({strategy.teacher_modality} if strategy.teacher else set()))
    train_set = make_dataset(path, splits["train"], config, sfreq=model.sfreq, modalities=modalities)
    val_set = make_dataset(path, splits["val"], config, sfreq=model.sfreq, modalities=modalities)
    pin = accelerator.device.type == "cuda"
    train_loader = make_loader(train_set, config, shuffle=True, pin_memory=pin)
    val_loader = make_loader(val_set, config, shuffle=False, pin_memory=pin)
    sampler = train_loader.sampler

    # Models: the student (maybe from a checkpoint) and the frozen teacher, never handed to DDP.
    start = load_prerequisite(config, "init", model.config) if strategy.init_from else None
    if start is not None:
        model.load_state_dict(start.state_dict())
    teacher = load_prerequisite(config, "teacher", model.config) if strategy.teacher else None
    if teacher is not None:
        teacher = freeze(teacher).to(accelerator.device)
    class_weights = balanced_weights(train_set.labels, config["data"]["n_classes"]).to(accelerator.device)

    optimizer = torch.optim.Adam(model.parameters(), lr=config["train"]["lr"],
                                 weight_decay=config["train"]["weight_decay"], fused=accelerator.device.type == "cuda")
    model, optimizer, train_loader, val_loader = accelerator.prepare(model, optimizer, train_loader, val_loader)
    step = build_step(strategy, student=model, teacher=teacher, loss_options=config["loss"],
                      class_weights=class_weights)

    progress = {"strategy": strategy.name, "n_classes": config["data"]["n_classes"], "model": config["model"]["name"],
                "epoch": 0, "batches_done": 0, "global_step": 0, "best": None, "stale": 0, "skipped_batches": 0}
    if resume is not None:
        runs.load_state(accelerator, runs.read_progress(Path(resume)), Path(resume))
        progress.update({k: v for k, v in runs.read_progress(Path(resume)).items() if k in progress})
        say(f"[sleep_kd] resuming {strategy.name} at epoch {progress['epoch'] + 1}, "
            f"batch {progress['batches_done']}, step {progress['global_step']}")
    if accelerator.is_main_process:
        if resume is None:  # a fresh run in an old folder: its curves and state would mix with ours
            runs.clear_previous_run(out)
        out.mkdir(parents=True, exist_ok=True)
        save_yaml(config, out / "config.yaml")
    accelerator.wait_for_everyone()
    accelerator.init_trackers("tensorboard", config=flatten(config))
    writer = accelerator.get_tracker("tensorboard", unwrap=True) if accelerator.is_main_process else None

    steps_per_epoch = math.ceil(len(train_loader) / config["train"]["grad_accum"])
    total_steps = steps_per_epoch * config["train"]["epochs"]
    if config["train"]["max_steps"]:
        total_steps = min(total_steps, config["train"]["max_steps"])
    checkpoint_record = {"strategy": strategy.name, "model": model_config_of(accelerator, model),
                         "data": {"n_classes": config["data"]["n_classes"], "class_names": list(train_set.class_names),
                                  "sfreq": float(model_config_of(accelerator, model)["sfreq"]),
                                  "window_s": config["data"]["window_s"],
                                  "normalization": config["data"]["normalization"],
                                  "modality": strategy.student_modality, "path": str(path),
                                  "split": config["data"]["split"], "split_seed": config["data"]["split_seed"],
                                  "folds": config["data"]["folds"], "fold": config["data"]["fold"]},
                         "config": config}
    say(f"[sleep_kd] training {strategy.name} ({strategy.description}) -> {out}: {len(train_set)} train windows, "
        f"{len(val_set)} val windows, {accelerator.num_processes} process(es) on {accelerator.device}")

    for epoch in range(progress["epoch"], config["train"]["epochs"]):
        if config["train"]["max_steps"] and progress["global_step"] >= config["train"]["max_steps"]:
            break
        finished = train_one_epoch(accelerator, model, optimizer, step, train_loader, sampler, config=config,
                                   epoch=epoch, progress=progress, total_steps=total_steps, out=out, writer=writer)
        last_epoch = epoch + 1 == config["train"]["epochs"] or not finished
        if finished:  # a max_steps stop keeps its place in the epoch, so --resume carries on from there
            progress.update(epoch=epoch + 1, batches_done=0)
        if (epoch + 1) % config["train"]["val_every"] == 0 or last_epoch:
            model.eval()
            predictions = predict(accelerator, val_loader, step)
            metrics = validation_metrics(predictions, config["data"]["n_classes"])
            metrics.update(epoch=epoch + 1, step=progress["global_step"])
            accelerator.log({f"val/{k}": v for k, v in metrics.items() if k not in ("epoch", "step")},
                            step=progress["global_step"])
            improved = record_best(progress, metrics, strategy)
            if accelerator.is_main_process:
                state = accelerator.unwrap_model(model).state_dict()
                save_checkpoint(out / "last", state_dict=state, config=checkpoint_record, metrics=metrics)
                if improved:
                    save_checkpoint(out / "best", state_dict=state, config=checkpoint_record, metrics=metrics)
                log_figures(writer, predictions, val_set, progress["global_step"])
            say(f"[sleep_kd] {strategy.name} epoch {epoch + 1}: " + ", ".join(
                f"{k} {metrics[k]:.4f}" for k in ("kappa", "weighted_f1", strategy.best_metric) if k in metrics)
                + (" (best)" if improved else ""))
        runs.save_state(accelerator, out, progress, model=model)
        patience = config["train"]["early_stopping"]
        if not finished or (patience and progress["stale"] >= patience):
            break
    accelerator.end_training()
    best = progress["best"] or {}
    return RunResult(out=out, best_metrics=best, steps=progress["global_step"])


def model_config_of(accelerator: Accelerator, model: torch.nn.Module) -> dict:
    return dict(accelerator.unwrap_model(model).config)


def record_best(progress: dict, metrics: Mapping, strategy) -> bool:
    """Keep the best validation score by the strategy's metric; count validations without improvement."""
    value = metrics.get(strategy.best_metric)
    if value is None:
        raise InputError(f"strategy {strategy.name}: validation gave no '{strategy.best_metric}' "
                         f"(has: {', '.join(sorted(metrics))})")
    best = progress["best"]
    better = best is None or (value > best[strategy.best_metric] if strategy.best_mode == "max"
                              else value < best[strategy.best_metric])
    if better:
        progress["best"] = dict(metrics)
        progress["stale"] = 0
    else:
        progress["stale"] += 1
    return better


def train_one_epoch(accelerator, model, optimizer, step, loader, sampler, *, config: Mapping, epoch: int,
                    progress: dict, total_steps: int, out: Path, writer) -> bool:
    """One pass over the training split; False if the run must stop (max_steps reached)."""
    train = config["train"]
    model.train()
    skip = progress["batches_done"]
    batches = accelerator.skip_first_batches(loader, skip) if skip else loader
    # Accelerate's loaders re-seed their sampler with their own iteration count at every pass;
    # pinning it to the epoch makes a resumed run (which iterates a fresh loader) replay the
    # uninterrupted run's order.
    batches.set_epoch(epoch) if hasattr(batches, "set_epoch") else sampler.set_epoch(epoch)
    sums: dict[str, torch.Tensor] = {}
    seen, batches_logged, tick = 0, 0, time.perf_counter()
    bar = tqdm(batches, desc=f"{config['strategy']} epoch {epoch + 1}/{train['epochs']}", initial=skip,
               total=len(loader), disable=not accelerator.is_local_main_process, dynamic_ncols=True)
    for batch in bar:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, progress["global_step"], total_steps)
        with accelerator.accumulate(model):
            with accelerator.autocast():
                out_terms = step(batch)
            if not check_finite(out_terms, progress, config):
                optimizer.zero_grad(set_to_none=True)
                progress["batches_done"] += 1
                continue
            accelerator.backward(out_terms["loss"])
            if accelerator.sync_gradients and train["clip_grad_norm"] > 0:
                accelerator.clip_grad_norm_(model.parameters(), train["clip_grad_norm"])
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        progress["batches_done"] += 1
        seen += batch["label"].shape[0]
        batches_logged += 1
        for key, value in out_terms.items():
            if key.endswith("loss"):
                sums[key] = sums.get(key, 0.0) + value.detach().float()
        if not accelerator.sync_gradients:
            continue
        progress["global_step"] += 1
        if progress["global_step"] % train["log_every"] == 0 or progress["batches_done"] == len(loader):
            elapsed = time.perf_counter() - tick
            rate = seen * accelerator.num_processes / max(elapsed, 1e-9)
            logged = {f"train/{k}": float(accelerator.reduce(v, reduction="mean")) / batches_logged
                      for k, v in sums.items()}
            logged.update({"train/lr": optimizer.param_groups[0]["lr"], "train/epochs_per_s": rate,
                           "train/skipped_batches": progress["skipped_batches"]})
            accelerator.log(logged, step=progress["global_step"])
            bar.set_postfix(loss=f"{logged.get('train/loss', float('nan')):.4f}", eps=f"{rate:.0f}")
            sums, seen, batches_logged, tick = {}, 0, 0, time.perf_counter()
        if train["save_state_every"] and progress["global_step"] % train["save_state_every"] == 0:
            runs.save_state(accelerator, out, progress, model=model)
        if train["max_steps"] and progress["global_step"] >= train["max_steps"]:
            return False
    return True


def check_finite(out_terms: Mapping[str, torch.Tensor], progress: dict, config: Mapping) -> bool:
    """True if the loss is finite; else stop naming the step and term, or count a skipped batch.

    This reads one scalar per step from the device: the price of stopping at the very step a
    term goes non-finite, before the optimizer spreads it into the weights.
    """
    if bool(torch.isfinite(out_terms["loss"])):
        return True
    bad = [k for k, v in out_terms.items() if k.endswith("_loss") and not bool(torch.isfinite(v).all())] or ["loss"]
    where = f"step {progress['global_step'] + 1} (epoch {progress['epoch'] + 1}, batch {progress['batches_done'] + 1})"
    if config["train"]["nonfinite"] == "stop":
        raise NonFiniteLossError(f"non-finite loss at {where}: {', '.join(bad)} is "
                                 f"{float(out_terms[bad[0]]) if bad[0] in out_terms else float('nan')}; "
                                 "the last good checkpoint is kept")
    progress["skipped_batches"] += 1
    return False


def log_figures(writer, predictions, dataset, step: int) -> None:
    """Confusion matrix of the validation split and the hypnogram of its first night, as images."""
    if writer is None or predictions.y_true.size == 0:
        return
    scores = score_predictions(predictions.y_true, predictions.y_pred, class_names=dataset.class_names)
    writer.add_figure("val/confusion_matrix", confusion_figure(scores["confusion_matrix"], dataset.class_names),
                      global_step=step)
    night = predictions.recording == predictions.recording.min()
    order = predictions.epoch[night].argsort()
    writer.add_figure("val/hypnogram", hypnogram_figure(predictions.y_true[night][order],
                                                        predictions.y_pred[night][order], dataset.class_names,
                                                        title=dataset.recordings[int(predictions.recording.min())]),
                      global_step=step)
