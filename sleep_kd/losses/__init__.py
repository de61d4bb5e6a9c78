"""Loss terms, each registered under its name with one signature (see ``registry``)."""

from __future__ import annotations

from sleep_kd.losses.attention import at, attention_map
from sleep_kd.losses.classification import balanced_class_weights, ce, wce
from sleep_kd.losses.distillation import sd, sd_parts
from sleep_kd.losses.registry import LossTerm, Outputs, get_loss, list_losses, register_loss

__all__ = [
    "LossTerm", "Outputs", "at", "attention_map", "balanced_class_weights", "ce", "get_loss",
    "list_losses", "register_loss", "sd", "sd_parts", "wce",
]
