"""Run configuration: YAML defaults, --config, command-line flags and --set, merged and checked.

A configuration is a nested dict whose keys are exactly those of ``configs/defaults.yaml`` (the
defaults and their comments); :mod:`sleep_kd.engine.schema` says what each key may hold. Every
layer is checked as it is merged: an unknown key, or a value of the wrong type or out of range,
is refused with one :class:`~sleep_kd.errors.InputError` line naming the key, the value, where it
came from and what is allowed. Combinations of keys that cannot work together (a window the
model cannot take) are refused once all layers are in (:mod:`sleep_kd.engine.combinations`).
Nothing is built or written before that.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from sleep_kd.engine.schema import SCHEMA, Options, check_value
from sleep_kd.engine.yaml_reader import load_yaml, read_yaml_file
from sleep_kd.errors import InputError

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"  # in the package; the checkout's configs/ links here
DEFAULTS_FILE = CONFIG_DIR / "defaults.yaml"


def read_yaml(path: str | Path) -> dict:
    """Read one YAML mapping; a missing, non-UTF-8 or bad file, or a key given twice, is one InputError line."""
    data = read_yaml_file(path) or {}
    if not isinstance(data, dict):
        raise InputError(f"config file {path} must hold a mapping of keys, got {type(data).__name__}")
    return data


def leaf_keys(tree: Mapping, prefix: str = "") -> list[str]:
    """Dotted keys of the values in ``tree`` (a free-form mapping of the schema counts as one value)."""
    keys = []
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and not isinstance(SCHEMA.get(dotted), Options):
            keys += leaf_keys(value, prefix=f"{dotted}.")
        else:
            keys.append(dotted)
    return keys


def defaults() -> dict:
    """The shared defaults (a fresh copy), each checked by its rule."""
    raw = read_yaml(DEFAULTS_FILE)
    listed, ruled = set(leaf_keys(raw)), set(SCHEMA)
    if listed != ruled:  # a developer's slip, not a user's: the two files must list the same keys
        raise RuntimeError(f"{DEFAULTS_FILE} and sleep_kd/engine/schema.py disagree on keys: "
                           f"{sorted(listed ^ ruled)}")
    return _checked(raw, origin=str(DEFAULTS_FILE.relative_to(CONFIG_DIR.parent)))


def _checked(tree: Mapping, *, origin: str, prefix: str = "") -> dict:
    """A copy of ``tree`` with every value checked by its rule (and in its canonical form)."""
    out = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        out[key] = (check_value(dotted, value, origin=origin) if dotted in SCHEMA
                    else _checked(value, origin=origin, prefix=f"{dotted}."))
    return out


def merge(base: dict, layer: Mapping, *, origin: str, prefix: str = "",
          origins: dict[str, str] | None = None) -> dict:
    """Return ``base`` updated by ``layer``, each value checked by its rule (see module docstring).

    Parameters
    ----------
    base : the configuration so far (not modified).
    layer : nested overrides.
    origin : where the layer came from, for error messages (a file name, a flag or "--set").
    origins : if given, updated with dotted key -> origin of each value set here.
    """
    merged = copy.deepcopy(base)
    for key, value in layer.items():
        dotted = f"{prefix}{key}"
        if key not in merged:
            known = ", ".join(sorted(f"{prefix}{k}" for k in merged))
            raise InputError(f"unknown config key '{dotted}' in {origin} (known keys: {known})")
        if dotted in SCHEMA:
            checked = check_value(dotted, value, origin=origin)
            if isinstance(SCHEMA[dotted], Options):
                checked = {**(merged[key] or {}), **copy.deepcopy(checked)}
            merged[key] = checked
            if origins is not None:
                origins[dotted] = origin
        elif not isinstance(value, Mapping):
            raise InputError(f"config key '{dotted}' in {origin} must be a mapping, got {value!r}")
        else:
            merged[key] = merge(merged[key], value, origin=origin, prefix=f"{dotted}.", origins=origins)
    return merged


def parse_set(pairs: Iterable[str]) -> dict:
    """Turn ``["train.lr=3e-4", "loss.sd={temperature: 2}"]`` into a nested dict (values parsed as YAML)."""
    nested: dict = {}
    for pair in pairs:
        if "=" not in pair:
            raise InputError(f"--set expects key=value, got '{pair}'")
        key, raw = pair.split("=", 1)
        value = load_yaml(raw, where=f"--set {key}={raw}", lines=False, prefix=f"{key.strip()}.")
        node = nested
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InputError(f"--set {key}: '{part}' is given both a value and sub-keys")
        earlier = node.get(parts[-1])
        # Two --set of one mapping add up, as layers do: --set model.overrides={a: 1} --set model.overrides={b: 2}
        node[parts[-1]] = {**earlier, **value} if isinstance(earlier, dict) and isinstance(value, dict) else value
    return nested


def resolve_config(strategy: str, *, config_file: str | Path | None = None,
                   options: Mapping | None = None, set_pairs: Iterable[str] = (),
                   base_file: str | Path | None = None, flag_names: Mapping[str, str] | None = None) -> dict:
    """Build the fully resolved, checked configuration of one run.

    Layers, later winning: defaults (or, when resuming, ``base_file``: the run's saved
    config.yaml, on top of the defaults), ``config_file``, ``options`` (from command-line flags;
    a nested dict; ``flag_names`` maps a dotted key to the flag that set it, for messages), then
    ``set_pairs``. The precision is settled last (:func:`settle_precision`).
    """
    from sleep_kd.engine.combinations import check_combinations

    origins: dict[str, str] = {}
    config = defaults()
    origins.update(dict.fromkeys(SCHEMA, str(DEFAULTS_FILE.relative_to(CONFIG_DIR.parent))))
    if base_file is not None:
        config = merge(config, read_yaml(base_file), origin=str(base_file), origins=origins)
    if config_file is not None:
        config = merge(config, read_yaml(config_file), origin=str(config_file), origins=origins)
    for dotted, value in _flat_layer(options or {}).items():
        origin = (flag_names or {}).get(dotted, "the command line")
        config = merge(config, _nested(dotted, value), origin=origin, origins=origins)
    config = merge(config, parse_set(set_pairs), origin="--set", origins=origins)
    config = merge(config, {"strategy": strategy}, origin="--strategy", origins=origins)
    check_combinations(config, origins)
    settle_precision(config)
    return config


def settle_precision(config: dict) -> None:
    """Settle ``train.mixed_precision`` for the device the run trains on, once, and say why.

    ``auto`` becomes fp32 (``no``) on every device (:data:`sleep_kd.hardware.AUTO_TRAINS_IN_BF16`);
    ``train.precision_reason`` gets the line the run prints at start. ``config.yaml`` and every
    checkpoint then hold the precision actually used, which ``evaluate.py --precision auto``
    scores in. fp16 without a CUDA GPU is refused here, before anything is built. A reason given
    in a layer (a run's saved config.yaml used as ``--config``) is replaced, never trusted.
    """
    from sleep_kd.hardware import resolve_mixed_precision, trains_on_cuda

    train = config["train"]
    train["mixed_precision"], train["precision_reason"] = resolve_mixed_precision(
        train["mixed_precision"], cuda=trains_on_cuda(cpu=train["cpu"]))


def _flat_layer(layer: Mapping, prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in layer.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and dotted not in SCHEMA:
            flat.update(_flat_layer(value, prefix=f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def _nested(dotted: str, value: Any) -> dict:
    node: Any = value
    for part in reversed(dotted.split(".")):
        node = {part: node}
    return node


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
