"""Networks: U-Time and its registered presets."""

from __future__ import annotations

from sleep_kd.models import presets as _presets  # noqa: F401  (registers the presets)
from sleep_kd.models.registry import create_model, list_models, model_from_config, register_model
from sleep_kd.models.utime import TAP_GROUPS, UTime

__all__ = ["TAP_GROUPS", "UTime", "create_model", "list_models", "model_from_config", "register_model"]
