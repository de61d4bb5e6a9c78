"""Registered context presets: the per-epoch U-Time of a single-window preset plus a sequence model.

``context_small`` is the CPU demo's (utime_small per epoch, 20 epochs = 10 minutes, a dilated
convolution over epochs); ``context_seed`` is the paper's scale for GPUs (utime_seed per epoch,
35 epochs as in the U-Time paper). The paper's single-window network stays ``utime_seed``.

Dropout is 0 by default: with dropout, a resumed run draws other masks than the uninterrupted
one (every DataLoader iterator takes a seed from the global RNG, and a resumed run creates one
more), so resumed and uninterrupted runs would no longer be bit-equal.
"""

from __future__ import annotations

from typing import Any

from sleep_kd.errors import InputError
from sleep_kd.models.context import CONTEXT_KEYS, ContextNet
from sleep_kd.models.registry import create_model, register_model


def _build(name: str, encoder: str, context_defaults: dict[str, Any], n_classes: int,
           overrides: dict[str, Any]) -> ContextNet:
    overrides = dict(overrides)
    encoder = overrides.pop("encoder_name", encoder)
    context = {**context_defaults, **{k: overrides.pop(k) for k in CONTEXT_KEYS if k in overrides}}
    try:
        options = dict(create_model(encoder, n_classes=n_classes, **overrides).config)
    except InputError as error:
        raise InputError(f"model {name!r}: {error}") from None
    options.pop("name")
    return ContextNet(name=name, encoder_name=encoder, **context, **options)


@register_model
def context_small(*, n_classes: int, **overrides: Any) -> ContextNet:
    """utime_small per epoch, a 4-layer dilated TCN of width 64 over 20 epochs (10 min of context).

    Receptive field 31 epochs (kernel 3, dilations 1-8), so every epoch of the input sees all the
    others. Context options: ``context_epochs``, ``sequence`` (tcn, gru, transformer, or
    tcn_causal for a real-time student that reads past epochs only), ``sequence_width``,
    ``sequence_layers``, ``sequence_kernel``, ``dropout``; any other option goes to the encoder.
    """
    defaults = dict(context_epochs=20, sequence="tcn", sequence_width=64, sequence_layers=4, sequence_kernel=3,
                    dropout=0.0)
    return _build("context_small", "utime_small", defaults, n_classes, overrides)


@register_model
def context_seed(*, n_classes: int, **overrides: Any) -> ContextNet:
    """utime_seed per epoch (200 Hz), a 6-layer dilated TCN of width 128 over 35 epochs (17.5 min).

    For GPUs: 35 epochs of 6000 samples per item, as U-Time's own input. Receptive field 127 epochs.
    """
    defaults = dict(context_epochs=35, sequence="tcn", sequence_width=128, sequence_layers=6, sequence_kernel=3,
                    dropout=0.0)
    return _build("context_seed", "utime_seed", defaults, n_classes, overrides)
