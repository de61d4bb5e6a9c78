"""What the CUDA checks measure and compare, as functions of a device.

The cuda-marked tests call these with ``device="cuda"``; ``test_checks_cpu.py`` calls them with
``device="cpu"`` (or ``cpu=True``), so the logic is tested on any machine. Figures a check measures
are appended to the JSON-lines file named by ``SLEEP_KD_GPU_FIGURES`` (``bench/gpu.py`` sets it
and copies them into its report).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
FIGURES_ENV = "SLEEP_KD_GPU_FIGURES"
# What torch.cuda.set_sync_debug_mode("warn") warns at each operation that waits for the GPU.
SYNC_MESSAGE = "called a synchronizing CUDA operation"
# The engine tests' tiny U-Time (about 6,000 parameters): a step costs next to nothing on any device.
TINY_OVERRIDES = {"filters": [4, 8], "pool_sizes": [10, 6], "bottleneck_filters": 16}


def record_figure(check: str, **figures) -> dict:
    """Append ``{"check": check, **figures}`` to ``$SLEEP_KD_GPU_FIGURES`` (if set); return it."""
    line = {"check": check, **figures}
    target = os.environ.get(FIGURES_ENV)
    if target:
        with open(target, "a") as handle:
            handle.write(json.dumps(line, default=float) + "\n")
    return line


def agreement(reference: np.ndarray, other: np.ndarray) -> dict:
    """How far two scorings of the same windows agree.

    Parameters
    ----------
    reference, other : (n_windows, n_classes) float probabilities (or (n_windows,) class indices).

    Returns
    -------
    dict: ``windows``, ``same_fraction`` (share of windows with the same predicted class),
    ``different`` (their count) and, for probabilities, ``max_abs_difference``.
    """
    reference, other = np.asarray(reference), np.asarray(other)
    if reference.shape != other.shape:
        raise ValueError(f"the two scorings differ in shape: {reference.shape} vs {other.shape}")
    labels = [a.argmax(axis=-1) if a.ndim == 2 else a for a in (reference, other)]
    same = labels[0] == labels[1]
    result = {"windows": int(same.size), "same_fraction": float(same.mean()) if same.size else 1.0,
              "different": int((~same).sum())}
    if reference.ndim == 2:
        result["max_abs_difference"] = float(np.abs(reference.astype(np.float64) - other).max())
    return result


# evaluate.py's scoring of every recording of each checkpoint, softmaxes saved in order:
# python -c EVALUATE CPU(0/1) OUT.npz CKPT...
EVALUATE = ("import sys, numpy as np; from sleep_kd.evaluation.scoring import predict_checkpoint; "
            "cpu, out, paths = sys.argv[1] == '1', sys.argv[2], sys.argv[3:]; "
            "np.savez(out, *[predict_checkpoint(p, split='all', cpu=cpu, probabilities=True).predictions.probabilities "
            "for p in paths])")


def evaluate_probabilities(checkpoints: list[Path], *, cpu: bool, work: Path) -> list[np.ndarray]:
    """``evaluate.py``'s softmax over every recording of each checkpoint's cohort: (n_epochs, n_classes) each.

    Scored in one fresh process per device, as ``evaluate.py`` runs: Accelerate keeps one device
    and one precision per process, so an evaluation inside a process that trained on CUDA (or in
    fp16) would not be the CPU's (or fp32's).
    """
    out = Path(work) / f"evaluate-{'cpu' if cpu else 'device'}.npz"
    done = subprocess.run([sys.executable, "-c", EVALUATE, "1" if cpu else "0", str(out), *map(str, checkpoints)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"evaluation failed ({'cpu' if cpu else 'device'}): {done.stderr[-1500:]}")
    with np.load(out) as saved:
        return [saved[f"arr_{i}"] for i in range(len(checkpoints))]


def predict_probabilities(checkpoint: Path, cohort: Path, *, cpu: bool, recordings: int = 2) -> np.ndarray:
    """``sleep_kd.predict``'s probabilities for the first ``recordings`` nights of ``cohort``.

    The nights go through predict's own windowing and scoring (``prepare_windows``,
    ``score_night``); only the EDF read is replaced by the cohort's stored signal (the read runs
    on the CPU, the same on every device). Returns (n_epochs, n_classes), nights one after another.
    """
    from sleep_kd.data import cohort_file as store
    from sleep_kd.predict import load_stager, prepare_windows, score_night
    from sleep_kd.predict.channels import ChannelChoice
    from sleep_kd.predict.night import RawNight

    stager = load_stager(checkpoint, cpu=cpu)
    parts = []
    with store.open_cohort(cohort) as handle:
        sfreq = float(handle.attrs["sfreq"])
        for rid in store.recording_ids(handle)[:recordings]:
            signal = handle["recordings"][rid][stager.modality][:].astype(np.float64)
            night = RawNight(Path(rid), signal, sfreq, ChannelChoice(stager.modality, False, False), 0.0, None)
            windows = prepare_windows(night, sfreq=stager.sfreq, window_s=stager.window_s, epoch_s=30.0,
                                      normalization=stager.normalization)
            parts.append(score_night(stager.model, windows, precision=stager.precision))
    return np.concatenate(parts)


def trained_looking(model: torch.nn.Module, *, seed: int = 3) -> torch.nn.Module:
    """``model`` in eval mode with non-trivial BatchNorm statistics and affine terms (as after training)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                for tensor, low, high in ((module.running_mean, -1.0, 1.0), (module.running_var, 0.5, 2.0),
                                          (module.weight, -0.5, 2.0), (module.bias, -1.0, 1.0)):
                    tensor.copy_(torch.rand(tensor.shape, generator=generator) * (high - low) + low)
    return model.eval()


@torch.no_grad()
def scoring_gap(model: torch.nn.Module, x: torch.Tensor, *, device: str) -> dict:
    """``for_scoring(model)`` against the plain eval forward on ``device``, in float32.

    ``x``: (B, C, n_times) (or a context model's (B, T, C, n_times)). Returns the largest absolute
    logit difference and the largest logit (the scale it is measured against).
    """
    from sleep_kd.fast import for_scoring

    model = model.to(device).eval()
    x = x.to(device)
    plain, scored = model(x).float(), for_scoring(model).to(device)(x).float()
    return {"max_abs_difference": float((plain - scored).abs().max()), "max_abs_logit": float(plain.abs().max())}


@dataclass
class SyncLog:
    """Host syncs seen while training, cut into steps at each call of the loop's ``check_finite``.

    ``syncs`` holds one ``(where, from)`` pair per sync: the Python line that called into the
    synchronising operation and the nearest line of this project on the way there. ``marks`` are
    indices into ``syncs`` at each ``check_finite`` call; the syncs between two marks are one whole
    step (its check, backward, optimizer step, the next batch's load and copy, its forward).
    """

    syncs: list[tuple[str, str]] = field(default_factory=list)
    marks: list[int] = field(default_factory=list)

    def steps(self) -> list[list[tuple[str, str]]]:
        """The syncs of each whole step (between consecutive marks)."""
        return [self.syncs[a:b] for a, b in zip(self.marks, self.marks[1:])]

    def per_step(self) -> list[int]:
        return [len(step) for step in self.steps()]

    def steady_locations(self) -> dict[str, int]:
        """Syncs per step by where they come from, over the steps after the first (autotuning, warm-up)."""
        counts: dict[str, int] = {}
        steady = self.steps()[1:]
        for step in steady:
            for where, caller in step:
                key = f"{where} <- {caller}"
                counts[key] = counts.get(key, 0) + 1
        return {key: round(value / len(steady), 2) for key, value in sorted(counts.items())} if steady else {}


def _locate(stack: list[traceback.FrameSummary]) -> tuple[str, str]:
    """``(where, from)`` of a sync from the stack at the warning (innermost last)."""
    frames = [f for f in stack if not f.filename.endswith(("warnings.py", "_py_warnings.py", "checks.py"))]
    name = lambda f: f"{_short(f.filename)}:{f.lineno} ({f.name})"  # noqa: E731
    project = [f for f in frames if _short(f.filename).startswith(("sleep_kd/", "train_loop.py"))]
    return (name(frames[-1]) if frames else "?"), (name(project[-1]) if project else "?")


def _short(filename: str) -> str:
    path = Path(filename)
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        parts = path.parts
        for anchor in ("site-packages", "dist-packages"):
            if anchor in parts:
                return "/".join(parts[parts.index(anchor) + 1:])
        return path.name


@contextmanager
def counting_syncs(*, device_type: str):
    """Inside, every host sync of the trainer is logged in the :class:`SyncLog` yielded.

    On CUDA, ``torch.cuda.set_sync_debug_mode("warn")`` makes each synchronising operation warn;
    the warnings are caught (all of them, not once per line) and the loop's ``check_finite`` is
    wrapped to mark each step. Off CUDA nothing warns by itself, but a warning with the same
    message raised by any code is counted the same way (how the CPU test checks the bookkeeping).
    """
    from sleep_kd.engine import trainer

    log = SyncLog()
    original = trainer.check_finite

    def marked(*args, **kwargs):
        log.marks.append(len(log.syncs))
        return original(*args, **kwargs)

    def show(message, category, filename, lineno, file=None, line=None):
        if SYNC_MESSAGE in str(message):
            log.syncs.append(_locate(traceback.extract_stack()[:-1]))

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show  # catch_warnings puts the original back
        trainer.check_finite = marked
        if device_type == "cuda":
            torch.cuda.set_sync_debug_mode("warn")
        try:
            yield log
        finally:
            if device_type == "cuda":
                torch.cuda.set_sync_debug_mode("default")
            trainer.check_finite = original


def training_parts(cohort: Path, out: Path, *, precision: str, cpu: bool, batch_size: int = 16):
    """What the trainer builds, for one hand-driven step: ``(accelerator, model, optimizer, loss_of, batch)``.

    The trainer's own Accelerator (:func:`~sleep_kd.engine.trainer.make_accelerator`, precision
    ``precision``), the tiny U-Time in its training forms and Adam (fused on CUDA), prepared;
    ``loss_of(batch)`` is ecg_base's loss; ``batch`` the first ``batch_size`` ECG windows of
    ``cohort`` on the device.
    """
    from torch.utils.data import default_collate

    from sleep_kd.data.dataset import CohortWindows
    from sleep_kd.engine.config import resolve_config
    from sleep_kd.engine.trainer import make_accelerator
    from sleep_kd.fast import for_training
    from sleep_kd.models import create_model
    from sleep_kd.strategies import build_step, get_strategy

    config = resolve_config("ecg_base")
    config["train"].update(mixed_precision=precision, cpu=cpu)
    accelerator = make_accelerator(config, out)
    torch.manual_seed(0)
    model = for_training(create_model("utime_small", n_classes=4, **TINY_OVERRIDES))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=accelerator.device.type == "cuda")
    model, optimizer = accelerator.prepare(model, optimizer)
    step = build_step(get_strategy("ecg_base"), student=model)
    windows = CohortWindows(cohort, n_classes=4, sfreq=100.0, modalities=("ecg",))  # utime_small's rate
    batch = default_collate([windows[i] for i in range(batch_size)])
    batch = {key: value.to(accelerator.device) for key, value in batch.items()}
    return accelerator, model, optimizer, (lambda b: step(b)["loss"]), batch


def overflow_step(accelerator, model, optimizer, loss_of, batch, *, factor: float) -> dict:
    """One optimizer step of ``loss_of(batch) * factor`` as the trainer takes it; what the scaler did.

    With fp16, a large ``factor`` overflows the scaled gradients: Accelerate's scaler must skip the
    step (weights unchanged) and lower its scale. Returns ``weights_changed``, ``scale_before`` and
    ``scale_after`` (None without a scaler) and Accelerate's own flag ``accelerate_says_skipped``.
    The flag is reported, not trusted: with a fused optimizer (the trainer's Adam on CUDA) the
    scaler hands the inf check to the optimizer's kernel, which skips the update itself, and
    Accelerate, seeing ``step`` called, reports no skip.
    """
    before = [p.detach().clone() for p in model.parameters()]
    scaler = accelerator.scaler
    scale_before = float(scaler.get_scale()) if scaler is not None else None
    with accelerator.accumulate(model):
        with accelerator.autocast():
            loss = loss_of(batch) * factor
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    changed = any(not torch.equal(a, p.detach()) for a, p in zip(before, model.parameters()))
    return {"loss_finite": bool(torch.isfinite(loss)), "weights_changed": changed,
            "accelerate_says_skipped": bool(accelerator.optimizer_step_was_skipped), "scale_before": scale_before,
            "scale_after": float(scaler.get_scale()) if scaler is not None else None}


def same_checkpoint(a: Path, b: Path) -> dict:
    """Whether two checkpoint folders hold bit-equal weights and equal metrics."""
    weights = (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    metrics = json.loads((a / "metrics.json").read_text()) == json.loads((b / "metrics.json").read_text())
    return {"weights_bit_equal": weights, "metrics_equal": metrics}


def train_subprocess(args: list[str], *, timeout_s: float = 300.0) -> subprocess.CompletedProcess:
    """``python train_loop.py ARGS`` in a fresh process (its own CUDA context and backend flags)."""
    return subprocess.run([sys.executable, "train_loop.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout_s, env={**os.environ, "TQDM_DISABLE": "1"})


def resume_against_uninterrupted(base_args: list[str], runs: Path, *, stop_at: int) -> dict:
    """Train once straight through and once stopped at ``stop_at`` steps and resumed; compare the ends.

    Each of the three runs is its own process, as a user runs them. Returns :func:`same_checkpoint`
    of both ``last/`` folders, the return codes, the step the stopped run saved (``stopped_at``) and
    whether the third run said it resumed, and the warnings PyTorch printed about deterministic
    algorithms (a missing ``CUBLAS_WORKSPACE_CONFIG`` or an operation without a deterministic form
    shows there).
    """
    whole, stopped = runs / "whole", runs / "stopped"
    results = [train_subprocess([*base_args, "--out", str(whole)]),
               train_subprocess([*base_args, "--out", str(stopped), "--max-steps", str(stop_at)])]
    saved = stopped / "state" / "progress.json"
    stopped_at = json.loads(saved.read_text())["global_step"] if saved.is_file() else None
    strategy = base_args[base_args.index("--strategy") + 1]
    results.append(train_subprocess(["--strategy", strategy, "--resume", str(stopped), "--max-steps", "0"]))
    codes = [r.returncode for r in results]
    notes = {line.strip() for r in results for line in r.stderr.splitlines()
             if "determinis" in line.lower() or "CUBLAS_WORKSPACE_CONFIG" in line}
    report = {"return_codes": codes, "stopped_at": stopped_at, "resumed": "[sleep_kd] resuming" in results[2].stdout,
              "determinism_warnings": sorted(notes)[:5],
              "errors": [r.stderr[-800:] for r in results if r.returncode != 0]}
    if codes == [0, 0, 0]:
        report.update(same_checkpoint(whole / "last", stopped / "last"))
    return report
