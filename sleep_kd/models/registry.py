"""Registry of named network presets (``create_model``, ``list_models``, ``model_from_config``).

A preset is a function ``preset(*, n_classes, **overrides) -> UTime`` registered with
:func:`register_model` under its own function name, so adding a preset is one decorated
function and every preset is reachable by name from a config file or a checkpoint.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Callable

from torch import nn

from sleep_kd.errors import InputError

ModelFactory = Callable[..., nn.Module]

_MODELS: dict[str, ModelFactory] = {}


def register_model(factory: ModelFactory) -> ModelFactory:
    """Register a preset under its function name (decorator); a duplicate name is an error."""
    name = factory.__name__
    if name in _MODELS:
        raise ValueError(f"model {name!r} is already registered")
    _MODELS[name] = factory
    return factory


def list_models(pattern: str = "*") -> list[str]:
    """Registered preset names matching a shell-style ``pattern``, sorted."""
    return sorted(name for name in _MODELS if fnmatch.fnmatch(name, pattern))


def create_model(name: str, *, n_classes: int, **overrides: Any) -> nn.Module:
    """Build the preset ``name`` for ``n_classes`` stages, with structural ``overrides``.

    Examples
    --------
    >>> model = create_model("utime_seed", n_classes=4)
    >>> sum(p.numel() for p in model.parameters())
    4813240
    """
    if name not in _MODELS:
        raise InputError(f"unknown model {name!r}; known models: {', '.join(list_models())}")
    return _MODELS[name](n_classes=n_classes, **overrides)


def model_from_config(config: dict[str, Any]) -> nn.Module:
    """Rebuild a network from its ``model.config`` (for example read from a checkpoint)."""
    if not isinstance(config, dict) or "name" not in config or "n_classes" not in config:
        raise InputError("model config must be a mapping with at least 'name' and 'n_classes'")
    options = dict(config)
    name = options.pop("name")
    n_classes = options.pop("n_classes")
    return create_model(name, n_classes=n_classes, **options)
