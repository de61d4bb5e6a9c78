"""Config keys that are each allowed but cannot work together, refused when the config is resolved.

Each check names the keys, their values and where each came from, so the line points at the
setting to change. The model is built on PyTorch's meta device (no memory, a few milliseconds)
to learn its rate and pooling: the model stays the one place that knows them.
"""

from __future__ import annotations

import math
from typing import Mapping

from sleep_kd.errors import InputError

# The model's window is the data's: a run sets it through data.window_s, never twice.
SET_ELSEWHERE = {"name": "model.name", "n_classes": "data.n_classes", "window_s": "data.window_s"}


def _named(key: str, value, origins: Mapping[str, str]) -> str:
    return f"'{key}' = {value!r} (in {origins.get(key, 'the defaults')})"


def check_combinations(config: Mapping, origins: Mapping[str, str]) -> None:
    """Refuse a kfold fold past the folds and a model that cannot take the data's windows."""
    data = config["data"]
    if data["split"] == "kfold" and data["fold"] >= data["folds"]:
        raise InputError(f"config keys {_named('data.fold', data['fold'], origins)} and "
                         f"{_named('data.folds', data['folds'], origins)} do not fit; allowed: "
                         f"0 <= data.fold < data.folds")
    check_model_fits(config, origins)


def model_for(config: Mapping, **extra):
    """The run's model on the meta device (structure only): ``create_model`` as :func:`build_run` calls it."""
    import torch

    from sleep_kd.models import create_model

    with torch.device("meta"):
        return create_model(config["model"]["name"], n_classes=config["data"]["n_classes"],
                            **{**config["model"]["overrides"], **extra})


def check_model_fits(config: Mapping, origins: Mapping[str, str]) -> None:
    """The model must build from its overrides and take whole windows of ``data.window_s`` seconds."""
    overrides, window_s = config["model"]["overrides"], config["data"]["window_s"]
    for option, key in SET_ELSEWHERE.items():
        if option in overrides:
            raise InputError(f"config key 'model.overrides' in {origins.get('model.overrides')} sets "
                             f"{option!r}; allowed: set {key} instead")
    try:
        model_for(config, window_s=window_s)
        return
    except InputError as error:
        failure = error
    try:
        probe = model_for(config)  # the preset's own window, to learn its rate and pooling
    except InputError:
        raise InputError(f"config keys {_named('model.name', config['model']['name'], origins)} and "
                         f"{_named('model.overrides', overrides, origins)} do not make a model: {failure}") from None
    sfreq, pools = probe.config["sfreq"], probe.config["pool_sizes"]
    samples, pooling = sfreq * window_s, math.prod(pools)
    keys = (f"config keys {_named('data.window_s', window_s, origins)} and "
            f"{_named('model.name', config['model']['name'], origins)}")
    if abs(samples - round(samples)) > 1e-6:
        raise InputError(f"{keys} do not fit: {window_s:g} s at the model's {sfreq:g} Hz is {samples:g} samples; "
                         f"allowed: a window of a whole number of samples (a multiple of {1 / sfreq:g} s)")
    if round(samples) % pooling:
        raise InputError(f"{keys} do not fit: {round(samples)} samples at the model's {sfreq:g} Hz, which its "
                         f"pool_sizes {pools} ({pooling} in all) do not divide; allowed: a multiple of "
                         f"{pooling / sfreq:g} s")
    raise InputError(f"{keys} do not fit: {failure}")
