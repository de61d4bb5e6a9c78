"""Rebuild a model from a checkpoint folder alone, and check it fits where it is used."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import torch

from sleep_kd.engine.checkpoint import Checkpoint, read_checkpoint
from sleep_kd.errors import InputError
from sleep_kd.models import model_from_config


def model_from_checkpoint(path: str | Path) -> tuple[torch.nn.Module, Checkpoint]:
    """The model stored in a checkpoint, in eval mode on the CPU, with its checkpoint record."""
    checkpoint = read_checkpoint(path)
    model_config = checkpoint.config.get("model")
    if not isinstance(model_config, Mapping):
        raise InputError(f"checkpoint {checkpoint.path}: config.json has no 'model' section")
    model = model_from_config(dict(model_config))
    load_weights(model, checkpoint)
    return model.eval(), checkpoint


def load_weights(model: torch.nn.Module, checkpoint: Checkpoint) -> None:
    """Copy a checkpoint's weights into ``model``; any missing, extra or misshapen tensor is refused."""
    own = model.state_dict()
    missing = sorted(set(own) - set(checkpoint.state_dict))
    extra = sorted(set(checkpoint.state_dict) - set(own))
    misshapen = [k for k in own if k in checkpoint.state_dict and own[k].shape != checkpoint.state_dict[k].shape]
    if missing or extra or misshapen:
        detail = (f"missing {missing[:3]}" if missing else f"unexpected {extra[:3]}" if extra else
                  f"{misshapen[0]} is {tuple(checkpoint.state_dict[misshapen[0]].shape)}, "
                  f"expected {tuple(own[misshapen[0]].shape)}")
        raise InputError(f"checkpoint {checkpoint.path} does not fit the model: {detail}")
    model.load_state_dict(checkpoint.state_dict)


def check_compatible(checkpoint: Checkpoint, *, role: str, n_classes: int,
                     model_config: Mapping | None = None) -> None:
    """A teacher or starting point must predict the same classes (and, to start from, be the same model).

    Parameters
    ----------
    role : "teacher" or "init", named in the error.
    n_classes : the class count of the run that uses the checkpoint.
    model_config : the run's model config, when the checkpoint must have the same architecture.
    """
    theirs = checkpoint.config.get("model", {})
    if theirs.get("n_classes") != n_classes:
        raise InputError(f"{role} checkpoint {checkpoint.path} predicts {theirs.get('n_classes')} classes, "
                         f"this run has {n_classes} (data.n_classes)")
    if model_config is not None:
        differing = sorted(k for k in set(theirs) | set(model_config) if theirs.get(k) != model_config.get(k))
        if differing:
            key = differing[0]
            raise InputError(f"{role} checkpoint {checkpoint.path} is a different model: {key} is "
                             f"{theirs.get(key)!r} there, {model_config.get(key)!r} here")
