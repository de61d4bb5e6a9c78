"""Rebuild a model from a checkpoint folder alone, and check it fits where it is used."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import torch

from sleep_kd.data.preparation import read_preparation
from sleep_kd.engine.checkpoint import Checkpoint, read_checkpoint
from sleep_kd.errors import InputError
from sleep_kd.models import create_model, model_from_config


# What a checkpoint's data preparation may hold (config.json "data"), by the config's own rules.
PREPARATION_RULES = {"n_classes": "data.n_classes", "window_s": "data.window_s", "normalization": "data.normalization"}


def model_from_checkpoint(path: str | Path) -> tuple[torch.nn.Module, Checkpoint]:
    """The model stored in a checkpoint, in eval mode on the CPU, with its checkpoint record."""
    checkpoint = read_checkpoint(path)
    model_config = checkpoint.config.get("model")
    if not isinstance(model_config, Mapping):
        raise InputError(f"checkpoint {checkpoint.path}: config.json has no 'model' section")
    check_record(checkpoint)
    model = model_from_config(dict(model_config))
    load_weights(model, checkpoint)
    return model.eval(), checkpoint


def check_record(checkpoint: Checkpoint) -> None:
    """Refuse a config.json value of the wrong type (``model.sfreq: "abc"``), naming file, key and value.

    Model options must have the type of the preset's own (the preset, built on the meta device,
    is the one place that knows them); the data preparation follows the config's rules.
    """
    from sleep_kd.engine.schema import SCHEMA, Float, Refused

    where = f"checkpoint {checkpoint.path / 'config.json'}"
    model_config = dict(checkpoint.config["model"])
    name, n_classes = model_config.get("name"), model_config.get("n_classes")
    if not isinstance(name, str) or isinstance(n_classes, bool) or not isinstance(n_classes, int):
        raise InputError(f"{where}: model.name and model.n_classes must be a name and an integer, "
                         f"got {name!r} and {n_classes!r}")
    with torch.device("meta"):
        reference = create_model(name, n_classes=n_classes).config
    for key, value in model_config.items():
        wanted = reference.get(key)
        if wanted is not None and not _same_kind(value, wanted):
            raise InputError(f"{where}: model.{key} is {value!r}; "
                             f"expected {_kind(wanted)} like the preset's {wanted!r}")
    data = checkpoint.config.get("data")
    if data is None:
        return
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: 'data' must be a mapping, got {data!r}")
    rules = {**{key: SCHEMA[rule] for key, rule in PREPARATION_RULES.items()}, "sfreq": Float(low=0, low_open=True)}
    for key, rule in rules.items():
        if key in data:
            try:
                rule.convert(data[key])
            except Refused:
                raise InputError(f"{where}: data.{key} is {data[key]!r}; allowed: {rule.describe()}") from None


def _kind(reference) -> str:
    return ("a list" if isinstance(reference, list) else "true or false" if isinstance(reference, bool)
            else "an integer" if isinstance(reference, int) else "a number" if isinstance(reference, float)
            else type(reference).__name__)


def _same_kind(value, reference) -> bool:
    if isinstance(reference, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(reference, bool)
    if isinstance(reference, float):
        return isinstance(value, (int, float))
    if isinstance(reference, list):
        return isinstance(value, list) and all(_same_kind(v, reference[0]) for v in value) if reference else True
    return isinstance(value, type(reference))


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
                     model_config: Mapping | None = None, preparation: Mapping | None = None) -> None:
    """A teacher or starting point must fit the run that uses it.

    Parameters
    ----------
    role : "teacher" or "init", named in the error.
    n_classes : the class count of the run that uses the checkpoint.
    model_config : the run's model config, when the checkpoint must have the same architecture.
    preparation : what its inputs must be: ``modality``, ``sfreq``, ``window_s``, ``normalization``
        (compared with the checkpoint's typed :class:`~sleep_kd.data.preparation.Preparation`, whose
        ``data`` record must then be there).
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
    if preparation is None:
        return
    data = checkpoint.config.get("data")
    if not isinstance(data, Mapping):
        raise InputError(f"{role} checkpoint {checkpoint.path} does not record how its inputs were prepared "
                         "(config.json has no 'data': modality, sampling rate, window, normalisation)")
    recorded = read_preparation(checkpoint.config, checkpoint=checkpoint.path)
    keys = {"modality": "the strategy's " + ("teacher" if role == "teacher" else "student"),
            "sfreq": "the model's rate", "window_s": "data.window_s", "normalization": "data.normalization"}
    for key, source in keys.items():
        if getattr(recorded, key) != preparation[key]:
            raise InputError(f"{role} checkpoint {checkpoint.path} was trained with {key} "
                             f"{getattr(recorded, key)!r}, this run needs {preparation[key]!r} ({source})")
