"""Registered U-Time presets: ``utime_seed`` (the original network) and ``utime_small`` (CPU demo)."""

from __future__ import annotations

import inspect
from typing import Any

from sleep_kd.errors import InputError
from sleep_kd.models.registry import register_model
from sleep_kd.models.utime import UTime

_STRUCTURE_KEYS = tuple(p for p in inspect.signature(UTime).parameters if p not in ("name", "n_classes"))


def _build(name: str, defaults: dict[str, Any], n_classes: int, overrides: dict[str, Any]) -> UTime:
    unknown = sorted(set(overrides) - set(_STRUCTURE_KEYS))
    if unknown:
        raise InputError(
            f"unknown option {unknown[0]!r} for model {name!r}; known options: {', '.join(_STRUCTURE_KEYS)}"
        )
    return UTime(name=name, n_classes=n_classes, **{**defaults, **overrides})


@register_model
def utime_seed(*, n_classes: int, **overrides: Any) -> UTime:
    """The seed's U-Time: 200 Hz x 30 s (6000 samples), encoder 16-256, bottleneck 512.

    4,813,215 parameters at 3 classes, 4,813,240 at 4.
    """
    defaults = dict(in_channels=1, sfreq=200.0, window_s=30.0, filters=[16, 32, 64, 128, 256],
                    pool_sizes=[3, 2, 2, 2, 2], kernel_size=5, encoder_dilation=2, bottleneck_filters=512,
                    bottleneck_dilation=1, decoder_dilation=1)
    return _build("utime_seed", defaults, n_classes, overrides)


@register_model
def utime_small(*, n_classes: int, **overrides: Any) -> UTime:
    """A small U-Time for CPU demos: 100 Hz x 30 s (3000 samples), encoder 8-64, bottleneck 128.

    A first pool of 10 (as in the U-Time paper) shrinks the sequence where convolutions cost the
    most: lengths 3000 -> 300 -> 100 -> 50 -> 25 samples. 302,184 parameters at 4 classes.
    """
    defaults = dict(in_channels=1, sfreq=100.0, window_s=30.0, filters=[8, 16, 32, 64],
                    pool_sizes=[10, 3, 2, 2], kernel_size=5, encoder_dilation=2, bottleneck_filters=128,
                    bottleneck_dilation=1, decoder_dilation=1)
    return _build("utime_small", defaults, n_classes, overrides)
