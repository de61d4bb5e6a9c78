"""Registry of named network presets (``create_model``, ``list_models``, ``model_from_config``).

A preset is a function ``preset(*, n_classes, **overrides) -> UTime`` registered with
:func:`register_model` under its own function name (:data:`MODELS`, a
:class:`sleep_kd.registry.Registry`), so adding a preset is one decorated function and every
preset is reachable by name from a config file or a checkpoint.
"""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from sleep_kd.errors import InputError
from sleep_kd.registry import Registry

ModelFactory = Callable[..., nn.Module]

MODELS: Registry[ModelFactory] = Registry("model")


def register_model(factory: ModelFactory) -> ModelFactory:
    """Register a preset under its function name (decorator); a duplicate name is an error."""
    return MODELS.register(factory)


def list_models(pattern: str = "*") -> list[str]:
    """Registered preset names matching a shell-style ``pattern``, sorted."""
    return MODELS.names(pattern)


def create_model(name: str, *, n_classes: int, **overrides: Any) -> nn.Module:
    """Build the preset ``name`` for ``n_classes`` stages, with structural ``overrides``.

    Examples
    --------
    >>> model = create_model("utime_seed", n_classes=4)
    >>> sum(p.numel() for p in model.parameters())
    4813240
    """
    return MODELS.get(name)(n_classes=n_classes, **overrides)


def model_from_config(config: dict[str, Any]) -> nn.Module:
    """Rebuild a network from its ``model.config`` (for example read from a checkpoint)."""
    if not isinstance(config, dict) or "name" not in config or "n_classes" not in config:
        raise InputError("model config must be a mapping with at least 'name' and 'n_classes'")
    options = dict(config)
    name = options.pop("name")
    n_classes = options.pop("n_classes")
    return create_model(name, n_classes=n_classes, **options)
