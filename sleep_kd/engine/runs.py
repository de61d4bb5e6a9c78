"""Run folders and the resumable training state inside them.

``OUT/`` holds ``config.yaml``, ``best/`` and ``last/`` checkpoints, TensorBoard events under
``OUT/tensorboard/`` and ``state/``: Accelerate's ``save_state`` (model, optimizer, grad scaler,
RNG states; model weights as safetensors, the rest loaded with ``weights_only=True``) plus
``progress.json`` (the loop's :class:`LoopState`). ``state/`` is replaced atomically, like a
checkpoint, and written no later than the checkpoints it belongs with. ``splits.json`` holds the recording ids of the run's train/val/test splits (written
here, never beside the cohort, whose folder may be read-only).

A resumed run must equal one that never stopped, so everything that shapes the result is pinned:
the resumed config may differ from the saved ``config.yaml`` only in :data:`FREE_ON_RESUME`, and the
cohort must still give the same splits.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from sleep_kd.engine.checkpoint import check_free_space, save_checkpoint
from sleep_kd.errors import InputError

STATE = "state"
PROGRESS = "progress.json"
SPLITS_FILE = "splits.json"
# Settings that cannot change what a run computes; every other key is pinned on --resume.
FREE_ON_RESUME = ("train.log_every", "train.max_steps", "train.save_state_every", "train.collective_timeout_s",
                  "data.num_workers", "paths.out", "paths.runs")


@dataclass
class LoopState:
    """Where the loop is and how it has done: saved as ``state/progress.json``."""

    strategy: str
    n_classes: int
    model: str
    epoch: int = 0            # epochs finished
    batches_done: int = 0     # batches of the current epoch done
    global_step: int = 0      # optimizer steps in all
    best: dict | None = None  # validation metrics of the best checkpoint so far
    stale: int = 0            # validations since the best
    skipped_batches: int = 0  # batches dropped for a non-finite loss (train.nonfinite: skip)
    history: list = field(default_factory=list)  # every scheduled validation: epoch, step and its scores
    # The latest validation's metrics and whether it was the best: the checkpoints (last/, best/) this
    # state belongs with. The state is saved before them, so a resumed run can write any it lacks.
    checkpoints: dict | None = None

    @classmethod
    def from_json(cls, data: Any, *, source: Path) -> "LoopState":
        """The state in a progress.json; a missing field or one of the wrong type names the file."""
        if not isinstance(data, dict):
            raise InputError(f"{source} must hold a JSON object")
        values = {}
        for spec in fields(cls):
            value = data.get(spec.name)
            wanted = {"strategy": str, "model": str, "best": (dict, type(None)), "checkpoints": (dict, type(None)),
                      "history": list}.get(spec.name, int)
            if (spec.name in ("strategy", "n_classes", "model") and value is None) or \
                    (value is not None and (isinstance(value, bool) or not isinstance(value, wanted))):
                expected = getattr(wanted, "__name__", "an object")
                raise InputError(f"{source}: '{spec.name}' is {value!r}, expected {expected}")
            if value is not None:
                values[spec.name] = value
        return cls(**values)


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


def checkpoints_behind(out: Path, progress: LoopState) -> list[str]:
    """The checkpoint folders (``last``, ``best``) that the state's latest validation wrote after the
    state and that do not hold it yet: a run killed between the two writes them when resumed."""
    if not progress.checkpoints:
        return []
    metrics = progress.checkpoints.get("metrics") or {}
    names = ["last", "best"] if progress.checkpoints.get("best") else ["last"]
    return [name for name in names if _saved_at(out / name) != (metrics.get("epoch"), metrics.get("step"))]


def write_checkpoints_behind(accelerator, out: Path, progress: LoopState, *, model, record: Mapping) -> list[str]:
    """On resume, write the checkpoints of the state's latest validation that a kill kept from being written.

    The state was saved right after that validation, so ``model`` (restored from it, unwrapped) is
    the model validated. Returns the folders written (all processes call it).
    """
    behind = checkpoints_behind(out, progress)
    if behind and accelerator.is_main_process:
        state = model.state_dict()
        for name in behind:
            save_checkpoint(out / name, state_dict=state, config=record, metrics=progress.checkpoints["metrics"])
    accelerator.wait_for_everyone()
    return behind


def _saved_at(checkpoint: Path) -> tuple | None:
    """(epoch, step) of a checkpoint's metrics.json; None when it has none (or it cannot be read)."""
    try:
        saved = json.loads((checkpoint / "metrics.json").read_text())
    except (OSError, ValueError):
        return None
    return (saved.get("epoch"), saved.get("step")) if isinstance(saved, dict) else None


def save_state(accelerator, out: Path, progress: LoopState, *, model) -> None:
    """Save the resumable state of every process into ``out/state`` atomically (all processes call it).

    The trainer saves it before the checkpoints of the same validation (never after them), so a run
    killed in between still resumes, and writes those checkpoints then (:func:`checkpoints_behind`).

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
            json.dump(asdict(progress), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        old = out / f".{STATE}.old"
        shutil.rmtree(old, ignore_errors=True)
        if (out / STATE).exists():
            os.replace(out / STATE, old)
        os.replace(tmp, out / STATE)
        shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def read_progress(resume: Path) -> tuple[LoopState, Path]:
    """The loop state of a run folder (or of its ``state/`` folder) given to ``--resume``, and that folder."""
    state = resume / STATE if (resume / STATE).is_dir() else resume
    if not state.is_dir() and (resume / f".{STATE}.old").is_dir():
        state = resume / f".{STATE}.old"  # a crash fell between the two renames of a save
    path = state / PROGRESS
    if not path.is_file():
        raise InputError(f"--resume {resume}: no resumable state there (expected {resume / STATE / PROGRESS})")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise InputError(f"--resume {resume}: {path} is not valid JSON ({error})")
    return LoopState.from_json(data, source=path), state


def check_resume_matches(progress: LoopState, config: Mapping, resume: Path) -> None:
    """A state folder from another strategy, class count or model cannot continue this run."""
    for key, ours in (("strategy", config["strategy"]), ("n_classes", config["data"]["n_classes"]),
                      ("model", config["model"]["name"])):
        theirs = getattr(progress, key)
        if theirs != ours:
            raise InputError(f"--resume {resume}: that run's {key} is {theirs!r}, this run's is {ours!r}")


def check_resume_config(saved: Mapping, config: Mapping, resume: Path) -> None:
    """Refuse a resumed config that differs from the saved run in anything but :data:`FREE_ON_RESUME`."""
    from sleep_kd.engine.config import flatten

    theirs, ours = flatten(saved), flatten(config)
    for key in sorted(set(theirs) | set(ours)):
        if key not in FREE_ON_RESUME and theirs.get(key) != ours.get(key):
            raise InputError(f"--resume {resume}: {key} is {theirs.get(key)!r} in that run, {ours.get(key)!r} now; "
                             f"a resumed run keeps its settings (only {', '.join(FREE_ON_RESUME)} may change)")


def check_resume_splits(saved_file: Path, splits: Mapping, resume: Path) -> None:
    """The cohort must still split into the recordings the run was trained and validated on."""
    if not saved_file.is_file():
        return  # a run saved before splits were recorded
    saved = json.loads(saved_file.read_text())
    for name in ("train", "val", "test"):
        before, now = set(saved.get(name, [])), set(splits[name])
        if before != now:
            change = "; ".join(part for part in (
                f"now also {', '.join(sorted(now - before)[:5])}" if now - before else "",
                f"no longer {', '.join(sorted(before - now)[:5])}" if before - now else "") if part)
            raise InputError(f"--resume {resume}: the cohort's {name} split is not the one that run used ({change})")


def load_state(accelerator, state_dir: Path, resume: Path) -> None:
    """Restore model, optimizer, scaler and RNG states; a pickle that is not plain data is refused."""
    try:
        with warnings.catch_warnings():  # torch's multi-line advice to unpickle anyway: the error below says it
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            accelerator.load_state(str(state_dir))
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"--resume {resume}: the saved state could not be loaded safely "
                         f"(only tensors and plain data are accepted): {first}")
