"""Checkpoints: ``model.safetensors`` + ``config.json`` + ``metrics.json``, written atomically.

A checkpoint folder is written under a temporary name and renamed into place, and the previous
folder is removed only once the new one is complete, so a crash (or a full disk) never leaves a
half-written checkpoint where a good one was. Loading never unpickles anything: weights come from
safetensors and everything else from JSON.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from sleep_kd.errors import InputError

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
METRICS = "metrics.json"
HEADROOM_BYTES = 16 * 2**20  # room for the JSON files and the file system's own overhead


@dataclass
class Checkpoint:
    """What a checkpoint folder holds."""

    path: Path
    state_dict: dict[str, torch.Tensor]
    config: dict
    metrics: dict


def check_free_space(directory: Path, needed_bytes: int, *, what: str) -> None:
    """Refuse a write that the disk cannot hold, before anything is touched."""
    directory.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(directory).free
    if free < needed_bytes + HEADROOM_BYTES:
        raise InputError(f"not enough free disk space in {directory} to write {what}: "
                         f"{free / 2**20:.1f} MiB free, about {needed_bytes / 2**20:.1f} MiB needed")


def save_checkpoint(directory: str | Path, *, state_dict: Mapping[str, torch.Tensor], config: Mapping,
                    metrics: Mapping) -> Path:
    """Write a checkpoint folder atomically and return its path.

    Parameters
    ----------
    directory : the checkpoint folder, e.g. ``OUT/best``; replaced only once the new one is complete.
    state_dict : the model's tensors (copied to the CPU, made contiguous).
    config : everything needed to rebuild the model and its data preparation (JSON-serialisable).
    metrics : the figures this checkpoint was chosen by (JSON-serialisable).
    """
    directory = Path(directory)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
    needed = sum(t.numel() * t.element_size() for t in tensors.values())
    check_free_space(directory.parent, needed, what=f"checkpoint {directory.name}")
    tmp = directory.parent / f".{directory.name}.tmp-{os.getpid()}"
    old = directory.parent / f".{directory.name}.old-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(tensors, str(tmp / WEIGHTS))
    _write_json(tmp / CONFIG, config)
    _write_json(tmp / METRICS, metrics)
    _fsync_dir(tmp)
    if directory.exists():
        os.replace(directory, old)
    os.replace(tmp, directory)
    _fsync_dir(directory.parent)
    shutil.rmtree(old, ignore_errors=True)
    return directory


def read_checkpoint(directory: str | Path) -> Checkpoint:
    """Read a checkpoint folder; anything missing or malformed is an InputError naming the file."""
    directory = _recover(Path(directory))
    if not directory.is_dir():
        raise InputError(f"checkpoint {directory} does not exist (expected a folder with {WEIGHTS} and {CONFIG})")
    for name in (WEIGHTS, CONFIG):
        if not (directory / name).is_file():
            raise InputError(f"checkpoint {directory} has no {name} (expected a folder written by train_loop.py)")
    try:
        state_dict = load_file(str(directory / WEIGHTS))
    except (SafetensorError, OSError, ValueError) as error:
        raise InputError(f"checkpoint {directory / WEIGHTS} is not a valid safetensors file: {error}")
    config = _read_json(directory / CONFIG)
    metrics = _read_json(directory / METRICS) if (directory / METRICS).is_file() else {}
    return Checkpoint(path=directory, state_dict=state_dict, config=config, metrics=metrics)


def _recover(directory: Path) -> Path:
    """If a crash fell between the two renames of a save, put the previous folder back."""
    if not directory.exists() and directory.parent.is_dir():
        olds = sorted(directory.parent.glob(f".{directory.name}.old-*"))
        if olds:
            os.replace(olds[-1], directory)
    return directory


def _write_json(path: Path, data: Mapping) -> None:
    with open(path, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=False)
        handle.flush()
        os.fsync(handle.fileno())


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"checkpoint file {path} is not valid JSON: {error}")
    if not isinstance(data, dict):
        raise InputError(f"checkpoint file {path} must hold a JSON object")
    return data


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
