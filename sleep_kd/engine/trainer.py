"""The training loop: one strategy, one run folder, read top to bottom.

Accelerate handles devices, DDP, mixed precision and gradient accumulation; the strategy step
(``sleep_kd.strategies``) computes the loss terms; this file knows nothing about any one strategy.
"""

from __future__ import annotations

import json
import math
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable, Mapping

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState, GradientState
from accelerate.utils import DataLoaderConfiguration, InitProcessGroupKwargs, set_seed
from tqdm.auto import tqdm

from sleep_kd.engine import runs
from sleep_kd.engine.assembly import RunParts, build_run, checkpoint_record
from sleep_kd.engine.checkpoint import check_free_space, save_checkpoint
from sleep_kd.engine.config import flatten, resolve_config, save_yaml
from sleep_kd.engine.data import cohort_tag
from sleep_kd.engine.figures import log_validation_figures
from sleep_kd.engine.interrupt import StopRequests, TrainingInterrupted
from sleep_kd.engine.lock import RunLock
from sleep_kd.engine.outputs import check_output_dir
from sleep_kd.engine.validation import predict, validation_metrics
from sleep_kd.errors import InputError
from sleep_kd.strategies import get_strategy



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
    timeout = InitProcessGroupKwargs(timeout=timedelta(seconds=train["collective_timeout_s"]))
    # Accelerate keeps one precision per process; a process that trains several runs in turn
    # (the studies, tests, a notebook) starts each from a fresh state. The process group
    # (PartialState) is kept.
    AcceleratorState._reset_state(reset_partial_state=False)
    GradientState._reset_state()
    # Batches from pinned memory are copied to the GPU without waiting for it (Accelerate's default waits).
    return Accelerator(mixed_precision=train["mixed_precision"], gradient_accumulation_steps=train["grad_accum"],
                       cpu=train["cpu"], log_with="tensorboard", project_dir=str(out), kwargs_handlers=[timeout],
                       dataloader_config=DataLoaderConfiguration(non_blocking=True),
                       dynamo_backend="inductor" if train["compile"] else "no")


def precision_line(config: Mapping) -> str:
    """The start line saying which precision the run trains in and why (settled with the config).

    A config that did not come from :func:`~sleep_kd.engine.config.resolve_config` (``auto`` still
    there, or no reason) is a programming error, not a user's.
    """
    train = config["train"]
    if train["mixed_precision"] == "auto" or not train.get("precision_reason"):
        raise ValueError("train() needs a config from resolve_config: its precision is not settled "
                         f"(train.mixed_precision {train['mixed_precision']!r})")
    return f"[sleep_kd] mixed precision: {train['precision_reason']}"


def bare_model(accelerator: Accelerator, model: torch.nn.Module) -> torch.nn.Module:
    """The network without DDP or torch.compile wrappers: its state_dict keys are the plain ones."""
    return accelerator.unwrap_model(model, keep_torch_compile=False)


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


def locate_run(config: Mapping, resume: Path | None) -> tuple[Path, runs.LoopState | None, Path | None]:
    """The run folder, and when resuming the saved loop state and its folder (checked against this run)."""
    if resume is None:
        return runs.run_dir(config, cohort_tag(config)), None, None
    progress, state_dir = runs.read_progress(resume)
    runs.check_resume_matches(progress, config, resume)
    return (resume if (resume / runs.STATE).is_dir() else resume.parent), progress, state_dir


def train(config: dict, *, resume: Path | None = None, announce: Callable[[str], None] | None = None) -> RunResult:
    """Train one strategy as ``config`` says; return the run folder and the best checkpoint's metrics.

    Everything is built and checked (cohort, splits, model, teacher, starting checkpoint, the run
    folder's lock and free space) before the run folder is touched; a fresh run clears an old
    folder's state and curves only then. Ctrl-C or SIGTERM saves a resumable state and raises
    :class:`~sleep_kd.engine.interrupt.TrainingInterrupted`.
    """
    strategy = get_strategy(config["strategy"])
    out, saved, state_dir = locate_run(config, Path(resume) if resume is not None else None)
    starting = precision_line(config)
    if saved is not None:
        saved_config = resolve_config(config["strategy"], base_file=out / "config.yaml")  # on today's defaults
        runs.check_resume_config(saved_config, config, Path(resume))
    check_output_dir(out, label=f"run folder {out}")
    accelerator = make_accelerator(config, out)
    say = announce or accelerator.print
    with (RunLock(out) if accelerator.is_main_process else nullcontext()), StopRequests() as stop:
        say(starting)
        configure_backends(config, accelerator)
        set_seed(config["seed"])
        parts = build_run(config, strategy, accelerator, announce=say)
        if saved is not None:
            runs.check_resume_splits(out / runs.SPLITS_FILE, parts.splits, Path(resume))
            runs.load_state(accelerator, state_dir, Path(resume))
            say(f"[sleep_kd] resuming {strategy.name} at epoch {saved.epoch + 1}, "
                f"batch {saved.batches_done}, step {saved.global_step}")
        progress = saved or runs.LoopState(strategy=strategy.name, n_classes=config["data"]["n_classes"],
                                           model=config["model"]["name"])
        if accelerator.is_main_process:
            params = sum(p.numel() * p.element_size() for p in parts.model.parameters())
            check_free_space(out, 5 * params, what="two checkpoints and the resumable state")
            if saved is None:  # a fresh run in an old folder: its curves and state would mix with ours
                runs.clear_previous_run(out)
            save_yaml(config, out / "config.yaml")
            (out / runs.SPLITS_FILE).write_text(json.dumps({**parts.splits, **(parts.scoring.record() if parts.scoring else {})},
                                                             indent=1) + "\n")
        accelerator.wait_for_everyone()
        try:
            run_epochs(accelerator, parts, strategy, config=config, progress=progress, out=out, stop=stop, say=say)
        finally:
            accelerator.end_training()
    return RunResult(out=out, best_metrics=progress.best or saved_best_metrics(out), steps=progress.global_step)


def saved_best_metrics(out: Path) -> dict:
    """The metrics of ``out/best`` when the run has no best record: a run stopped (--max-steps) inside
    its first epoch saved ``best/`` from that stop's validation, which is not part of the schedule."""
    saved = out / "best" / "metrics.json"
    return json.loads(saved.read_text()) if saved.is_file() else {}


def run_epochs(accelerator, parts: RunParts, strategy, *, config: Mapping, progress: runs.LoopState, out: Path,
               stop: StopRequests, say: Callable[[str], None]) -> None:
    """The epochs of a run, from where ``progress`` says, to the end or a stop (max_steps, early stopping, a signal)."""
    accelerator.init_trackers("tensorboard", config=flatten(config))
    writer = accelerator.get_tracker("tensorboard", unwrap=True) if accelerator.is_main_process else None
    record = checkpoint_record(config, strategy, parts, bare_model(accelerator, parts.model).config)
    # The schedule spans the configured epochs; max_steps only stops early, so a run stopped by it
    # and resumed follows the same learning rates as one that never stopped.
    total_steps = math.ceil(len(parts.train_loader) / config["train"]["grad_accum"]) * config["train"]["epochs"]
    say(f"[sleep_kd] training {strategy.name} ({strategy.description}) -> {out}: {items(parts.train_set)} train, "
        f"{items(parts.val_set)} val, {accelerator.num_processes} process(es) on {accelerator.device}")
    if config["paths"]["encoder_init"] and progress.global_step == 0:
        say(f"[sleep_kd] {strategy.name}: " + (
            f"the whole model starts from {config['paths']['init']}; paths.encoder_init is not used"
            if strategy.init_from else
            f"the per-epoch encoder starts from {config['paths']['encoder_init']}, the sequence model at zero"))
    behind = runs.write_checkpoints_behind(accelerator, out, progress, model=bare_model(accelerator, parts.model),
                                           record=record)
    if behind:
        say(f"[sleep_kd] wrote {' and '.join(f'{name}/' for name in behind)} of step "
            f"{progress.checkpoints['metrics'].get('step')}: the interrupted run had saved its state, not them")
    for epoch in range(progress.epoch, config["train"]["epochs"]):
        if config["train"]["max_steps"] and progress.global_step >= config["train"]["max_steps"]:
            break
        finished = train_one_epoch(accelerator, parts, config=config, epoch=epoch, progress=progress,
                                   total_steps=total_steps, out=out, stop=stop)
        if finished:  # a max_steps stop keeps its place in the epoch, so --resume carries on from there
            progress.epoch, progress.batches_done = epoch + 1, 0
        if (epoch + 1) % config["train"]["val_every"] == 0 or epoch + 1 == config["train"]["epochs"] or not finished:
            validate_and_save(accelerator, parts, strategy, config=config, progress=progress, out=out,
                              record=record, writer=writer, announce=say, epoch=epoch, mid_epoch=not finished)
        else:
            runs.save_state(accelerator, out, progress, model=parts.model)
        if stop.agreed(accelerator):
            raise TrainingInterrupted(out, stop.received or "a signal on another process",
                                      strategy=config["strategy"])
        patience = config["train"]["early_stopping"]
        if not finished or (patience and progress.stale >= patience):
            break


def quiet_progress() -> bool:
    """``TQDM_DISABLE=1`` hides the progress bars (for logs); an explicit ``disable=`` would override it."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes")


def items(dataset) -> str:
    """``"902 sequences of 20 epochs"`` or ``"18040 windows"``: what a dataset's items are."""
    context = getattr(dataset, "context_epochs", 0)
    return f"{len(dataset)} sequences of {context} epochs" if context else f"{len(dataset)} windows"


def validate_and_save(accelerator, parts: RunParts, strategy, *, config: Mapping, progress: runs.LoopState, out: Path,
                      record: Mapping, writer, announce: Callable[[str], None], epoch: int,
                      mid_epoch: bool = False) -> None:
    """Score the validation split, log it, save the resumable state, then write ``last/`` (and ``best/``
    when it improved).

    The state comes first: a run killed between the two resumes from it and writes the checkpoints
    then (:func:`sleep_kd.engine.runs.write_checkpoints_behind`); the other order left ``last/``
    without a state to resume from.
    A validation at a stop inside an epoch (``mid_epoch``: --max-steps) is not part of the schedule: it
    writes ``last/``, and ``best/`` only while there is none yet, but leaves the best record and the
    early-stopping count alone, so a run stopped there and resumed ends equal to one never stopped.
    """
    parts.model.eval()
    predictions = predict(accelerator, parts.val_loader, parts.val_step)
    metrics = validation_metrics(predictions, config["data"]["n_classes"])
    metrics.update(epoch=epoch + 1, step=progress.global_step)
    accelerator.log({f"val/{k}": v for k, v in metrics.items() if k not in ("epoch", "step")},
                    step=progress.global_step)
    improved = progress.best is None if mid_epoch else record_best(progress, metrics, strategy)
    if not mid_epoch:
        progress.history.append({k: metrics[k] for k in ("epoch", "step", "kappa", "weighted_f1", "macro_f1",
                                                         "loss") if k in metrics})
    progress.checkpoints = {"metrics": metrics, "best": bool(improved)}
    runs.save_state(accelerator, out, progress, model=parts.model)
    if accelerator.is_main_process:
        state = bare_model(accelerator, parts.model).state_dict()
        save_checkpoint(out / "last", state_dict=state, config=record, metrics=metrics)
        if improved:
            save_checkpoint(out / "best", state_dict=state, config=record, metrics=metrics)
        log_validation_figures(writer, predictions, parts.val_set, progress.global_step,
                               model=bare_model(accelerator, parts.model), modality=strategy.student_modality)
    shown = dict.fromkeys(("kappa", "weighted_f1", strategy.best_metric))
    announce(f"[sleep_kd] {strategy.name} epoch {epoch + 1}: "
             + ", ".join(f"{k} {metrics[k]:.4f}" for k in shown if k in metrics) + (" (best)" if improved else ""))


def record_best(progress: runs.LoopState, metrics: Mapping, strategy) -> bool:
    """Keep the best validation score by the strategy's metric; count validations without improvement."""
    value = metrics.get(strategy.best_metric)
    if value is None:
        raise InputError(f"strategy {strategy.name}: validation gave no '{strategy.best_metric}' "
                         f"(has: {', '.join(sorted(metrics))})")
    best = progress.best
    better = best is None or (value > best[strategy.best_metric] if strategy.best_mode == "max"
                              else value < best[strategy.best_metric])
    if better:
        progress.best = dict(metrics)
        progress.stale = 0
    else:
        progress.stale += 1
    return better


def train_one_epoch(accelerator, parts: RunParts, *, config: Mapping, epoch: int, progress: runs.LoopState,
                    total_steps: int, out: Path, stop: StopRequests) -> bool:
    """One pass over the training split; False if the run must stop (max_steps reached).

    A stop signal is honoured after an optimizer step: the state is saved and
    :class:`TrainingInterrupted` raised.
    """
    train = config["train"]
    model, optimizer, step, loader = parts.model, parts.optimizer, parts.step, parts.train_loader
    model.train()
    skip = progress.batches_done
    batches = accelerator.skip_first_batches(loader, skip) if skip else loader
    # Accelerate's loaders re-seed their sampler with their own iteration count at every pass;
    # pinning it to the epoch makes a resumed run (which iterates a fresh loader) replay the
    # uninterrupted run's order.
    batches.set_epoch(epoch)
    sums: dict[str, torch.Tensor] = {}
    seen, batches_logged, tick = 0, 0, time.perf_counter()
    bar = tqdm(batches, desc=f"{config['strategy']} epoch {epoch + 1}/{train['epochs']}", initial=skip,
               total=len(loader), disable=not accelerator.is_local_main_process or quiet_progress(),
               dynamic_ncols=True)
    for batch in bar:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, progress.global_step, total_steps)
        with accelerator.accumulate(model):
            with accelerator.autocast():
                out_terms = step(batch)
            if not check_finite(out_terms, progress, config):
                optimizer.zero_grad(set_to_none=True)
                progress.batches_done += 1
                continue
            accelerator.backward(out_terms["loss"])
            if accelerator.sync_gradients and train["clip_grad_norm"] > 0:
                accelerator.clip_grad_norm_(model.parameters(), train["clip_grad_norm"])
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        progress.batches_done += 1
        seen += batch["label"].numel()  # epochs: a context batch (B, T) holds B * T
        batches_logged += 1
        for key, value in out_terms.items():
            if key.endswith(("loss", "_epochs")):
                sums[key] = sums.get(key, 0.0) + value.detach().float()
        if not accelerator.sync_gradients:
            continue
        progress.global_step += 1
        if progress.global_step % train["log_every"] == 0 or progress.batches_done == len(loader):
            elapsed = time.perf_counter() - tick
            rate = seen * accelerator.num_processes / max(elapsed, 1e-9)
            # Losses: the mean per batch; epoch counts (``<term>_scored_epochs``...): the total seen.
            logged = {f"train/{k}": float(accelerator.reduce(v, reduction="mean")) / batches_logged
                      if k.endswith("loss") else float(accelerator.reduce(v, reduction="sum"))
                      for k, v in sums.items()}
            logged.update({"train/lr": optimizer.param_groups[0]["lr"], "train/epochs_per_s": rate,
                           "train/skipped_batches": progress.skipped_batches})
            accelerator.log(logged, step=progress.global_step)
            bar.set_postfix(loss=f"{logged.get('train/loss', float('nan')):.4f}", eps=f"{rate:.0f}")
            sums, seen, batches_logged, tick = {}, 0, 0, time.perf_counter()
        if train["save_state_every"] and progress.global_step % train["save_state_every"] == 0:
            runs.save_state(accelerator, out, progress, model=model)
        if stop.agreed(accelerator):
            runs.save_state(accelerator, out, progress, model=model)
            raise TrainingInterrupted(out, stop.received or "a signal on another process",
                                      strategy=config["strategy"])
        if train["max_steps"] and progress.global_step >= train["max_steps"]:
            return False
    return True


def check_finite(out_terms: Mapping[str, torch.Tensor], progress: runs.LoopState, config: Mapping) -> bool:
    """True if the loss is finite; else stop naming the step and term, or count a skipped batch.

    This reads one scalar per step from the device: the price of stopping at the very step a
    term goes non-finite, before the optimizer spreads it into the weights.
    """
    if bool(torch.isfinite(out_terms["loss"])):
        return True
    bad = [k for k, v in out_terms.items() if k.endswith("_loss") and not bool(torch.isfinite(v).all())] or ["loss"]
    where = f"step {progress.global_step + 1} (epoch {progress.epoch + 1}, batch {progress.batches_done + 1})"
    if config["train"]["nonfinite"] == "stop":
        raise NonFiniteLossError(f"non-finite loss at {where}: {', '.join(bad)} is "
                                 f"{float(out_terms[bad[0]]) if bad[0] in out_terms else float('nan')}; "
                                 "the last good checkpoint is kept")
    progress.skipped_batches += 1
    return False
