"""Run configuration: YAML defaults, a strategy's YAML, --config, CLI options and --set, merged.

A configuration is a nested dict whose keys are exactly those of ``configs/defaults.yaml``. Every
layer is checked against it: an unknown key or a value of the wrong type is refused with a
one-line :class:`~sleep_kd.errors.InputError` that names the key and where it came from.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from sleep_kd.errors import InputError
from sleep_kd.hardware import MIXED_PRECISIONS

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
DEFAULTS_FILE = CONFIG_DIR / "defaults.yaml"

# Keys whose default is null take values of these types.
NULLABLE_TYPES: dict[str, tuple[type, ...]] = {
    "strategy": (str,),
    "data.path": (str,),
    "paths.out": (str,),
    "paths.teacher": (str,),
    "paths.init": (str,),
}
# Free-form mappings: their inner keys are checked by their consumer (the model or a loss term).
OPEN_MAPPINGS = {"model.overrides", "loss.ce", "loss.wce", "loss.sd", "loss.at"}


def read_yaml(path: str | Path) -> dict:
    """Read one YAML mapping; a missing file or bad YAML is an InputError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise InputError(f"config file {path} is not valid YAML: {str(error).splitlines()[0]}")
    if not isinstance(data, dict):
        raise InputError(f"config file {path} must hold a mapping of keys, got {type(data).__name__}")
    return data


def defaults() -> dict:
    """The shared defaults (a fresh copy)."""
    return read_yaml(DEFAULTS_FILE)


def _type_ok(value: Any, reference: Any, key: str) -> bool:
    if value is None:
        return reference is None or key in NULLABLE_TYPES
    if reference is None:
        return isinstance(value, NULLABLE_TYPES.get(key, (object,)))
    if isinstance(reference, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(reference, bool)
    if isinstance(reference, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(reference))


def merge(base: dict, layer: Mapping, *, origin: str, prefix: str = "") -> dict:
    """Return ``base`` updated by ``layer``, refusing unknown keys and wrong types.

    Parameters
    ----------
    base : the configuration so far (not modified).
    layer : nested overrides.
    origin : where the layer came from, for error messages (a file name or "--set").
    """
    merged = copy.deepcopy(base)
    for key, value in layer.items():
        dotted = f"{prefix}{key}"
        if key not in merged:
            known = ", ".join(sorted(f"{prefix}{k}" for k in merged))
            raise InputError(f"unknown config key '{dotted}' in {origin} (known keys: {known})")
        reference = merged[key]
        if dotted in OPEN_MAPPINGS:
            if not isinstance(value, Mapping):
                raise InputError(f"config key '{dotted}' in {origin} must be a mapping, got {value!r}")
            merged[key] = {**reference, **copy.deepcopy(dict(value))}
        elif isinstance(reference, dict):
            if not isinstance(value, Mapping):
                raise InputError(f"config key '{dotted}' in {origin} must be a mapping, got {value!r}")
            merged[key] = merge(reference, value, origin=origin, prefix=f"{dotted}.")
        elif not _type_ok(value, reference, dotted):
            expected = type(reference).__name__ if reference is not None else "/".join(
                t.__name__ for t in NULLABLE_TYPES.get(dotted, (object,)))
            raise InputError(f"config key '{dotted}' in {origin} must be {expected}, got {value!r}")
        else:
            merged[key] = float(value) if isinstance(reference, float) else value
    return merged


def parse_set(pairs: Iterable[str]) -> dict:
    """Turn ``["train.lr=3e-4", "loss.sd={temperature: 2}"]`` into a nested dict (values parsed as YAML)."""
    nested: dict = {}
    for pair in pairs:
        if "=" not in pair:
            raise InputError(f"--set expects key=value, got '{pair}'")
        key, raw = pair.split("=", 1)
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise InputError(f"--set {key}: value '{raw}' is not valid YAML")
        node = nested
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return nested


def strategy_file(strategy: str) -> Path:
    """The strategy's own YAML (``configs/strategies/<name>.yaml``)."""
    return CONFIG_DIR / "strategies" / f"{strategy}.yaml"


def resolve_config(strategy: str, *, config_file: str | Path | None = None,
                   options: Mapping | None = None, set_pairs: Iterable[str] = (),
                   base_file: str | Path | None = None) -> dict:
    """Build the fully resolved configuration of one run.

    Layers, later winning: defaults, the strategy's YAML (or, when resuming, ``base_file``: the
    run's saved config.yaml), ``config_file``, ``options`` (from command-line flags; a nested
    dict), then ``set_pairs``.
    """
    config = defaults()
    path = Path(base_file) if base_file is not None else strategy_file(strategy)
    if path.is_file():
        config = merge(config, read_yaml(path), origin=str(path))
    if config_file is not None:
        config = merge(config, read_yaml(config_file), origin=str(config_file))
    if options:
        config = merge(config, options, origin="the command line")
    config = merge(config, parse_set(set_pairs), origin="--set")
    config["strategy"] = strategy
    validate(config)
    return config


def validate(config: Mapping) -> None:
    """Checks of values (not just types) that a user can get wrong."""
    rules = [
        ("data.n_classes", lambda v: v in (3, 4), "3 or 4"),
        ("data.normalization", lambda v: v in ("minmax", "zscore", "none"), "minmax, zscore or none"),
        ("data.split", lambda v: v in ("seed", "pooled", "kfold"), "seed, pooled or kfold"),
        ("train.mixed_precision", lambda v: v in MIXED_PRECISIONS, ", ".join(MIXED_PRECISIONS)),
        ("train.lr_schedule", lambda v: v in ("none", "cosine"), "none or cosine"),
        ("train.nonfinite", lambda v: v in ("stop", "skip"), "stop or skip"),
        ("train.epochs", lambda v: v >= 1, "at least 1"),
        ("train.batch_size", lambda v: v >= 1, "at least 1"),
        ("train.grad_accum", lambda v: v >= 1, "at least 1"),
        ("train.val_every", lambda v: v >= 1, "at least 1"),
        ("train.lr", lambda v: v > 0, "positive"),
    ]
    if not 0 <= config["seed"] < 2**32:  # accelerate's set_seed range
        raise InputError(f"config key 'seed' must be between 0 and 2**32 - 1, got {config['seed']!r}")
    for key, ok, expected in rules:
        section, name = key.split(".")
        value = config[section][name]
        if not ok(value):
            raise InputError(f"config key '{key}' must be {expected}, got {value!r}")


def save_yaml(config: Mapping, path: str | Path) -> None:
    """Write the resolved configuration as YAML (key order kept)."""
    Path(path).write_text(yaml.safe_dump(dict(config), sort_keys=False))


def flatten(config: Mapping, prefix: str = "") -> dict[str, Any]:
    """``{"train": {"lr": 1e-3}}`` -> ``{"train.lr": 1e-3}``; lists and None become strings (for hparams)."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, prefix=f"{dotted}."))
        elif isinstance(value, (bool, int, float, str)):
            flat[dotted] = value
        else:
            flat[dotted] = json.dumps(value)
    return flat
