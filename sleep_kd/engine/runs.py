"""Run folders and the resumable training state inside them.

``OUT/`` holds ``config.yaml``, ``best/`` and ``last/`` checkpoints, TensorBoard events under
``OUT/tensorboard/`` and ``state/``: Accelerate's ``save_state`` (model, optimizer, grad scaler,
RNG states; model weights as safetensors, the rest loaded with ``weights_only=True``) plus
``progress.json`` (epoch, batches done, optimizer steps, best score). ``state/`` is replaced
atomically, like a checkpoint.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path
from typing import Mapping

from sleep_kd.engine.checkpoint import check_free_space
from sleep_kd.errors import InputError

STATE = "state"
PROGRESS = "progress.json"


def default_run_dir(config: Mapping, tag: str) -> Path:
    """``<runs>/<cohort tag>/<n>class/<strategy>``: prerequisites are looked up beside it."""
    return Path(config["paths"]["runs"]) / tag / f"{config['data']['n_classes']}class" / config["strategy"]


def run_dir(config: Mapping, tag: str) -> Path:
    """The run folder: ``paths.out`` if given, else :func:`default_run_dir`."""
    return Path(config["paths"]["out"]) if config["paths"]["out"] else default_run_dir(config, tag)


def clear_previous_run(out: Path) -> None:
    """Before a fresh run in an existing folder: drop its TensorBoard events and resumable state.

    Its ``best/`` and ``last/`` checkpoints stay until the new run replaces them.
    """
    for name in ("tensorboard", STATE, f".{STATE}.tmp", f".{STATE}.old"):
        shutil.rmtree(out / name, ignore_errors=True)


def save_state(accelerator, out: Path, progress: Mapping, *, model) -> None:
    """Save the resumable state of every process into ``out/state`` atomically (all processes call it).

    The disk is checked first (weights plus Adam's two moments), so a full disk fails cleanly
    and the previous state stays whole.
    """
    tmp = out / f".{STATE}.tmp"
    if accelerator.is_main_process:
        needed = 3 * sum(p.numel() * p.element_size() for p in model.parameters())
        check_free_space(out, needed, what="the resumable training state")
        shutil.rmtree(tmp, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(output_dir=str(tmp), safe_serialization=True)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        with open(tmp / PROGRESS, "w") as handle:
            json.dump(dict(progress), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        old = out / f".{STATE}.old"
        shutil.rmtree(old, ignore_errors=True)
        if (out / STATE).exists():
            os.replace(out / STATE, old)
        os.replace(tmp, out / STATE)
        shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def read_progress(resume: Path) -> dict:
    """The progress record of a run folder (or of its ``state/`` folder) given to ``--resume``."""
    state = resume / STATE if (resume / STATE).is_dir() else resume
    if not state.is_dir() and (resume / f".{STATE}.old").is_dir():
        state = resume / f".{STATE}.old"  # a crash fell between the two renames of a save
    path = state / PROGRESS
    if not path.is_file():
        raise InputError(f"--resume {resume}: no resumable state there (expected {resume / STATE / PROGRESS})")
    try:
        progress = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise InputError(f"--resume {resume}: {path} is not valid JSON ({error})")
    progress["state_dir"] = str(state)
    return progress


def check_resume_matches(progress: Mapping, config: Mapping, resume: Path) -> None:
    """A state folder from another strategy, class count or model cannot continue this run."""
    for key, ours in (("strategy", config["strategy"]), ("n_classes", config["data"]["n_classes"]),
                      ("model", config["model"]["name"])):
        theirs = progress.get(key)
        if theirs != ours:
            raise InputError(f"--resume {resume}: that run's {key} is {theirs!r}, this run's is {ours!r}")


def load_state(accelerator, progress: Mapping, resume: Path) -> None:
    """Restore model, optimizer, scaler and RNG states; a pickle that is not plain data is refused."""
    try:
        accelerator.load_state(progress["state_dir"])
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"--resume {resume}: the saved state could not be loaded safely "
                         f"(only tensors and plain data are accepted): {first}")
