"""Networks: U-Time, the context network over epochs, and their registered presets."""

from __future__ import annotations

from sleep_kd.models import presets as _presets  # noqa: F401  (registers the presets)
from sleep_kd.models import context_presets as _context_presets  # noqa: F401  (registers the context presets)
from sleep_kd.models.registry import create_model, list_models, model_from_config, register_model
from sleep_kd.models.context import ContextNet, context_epochs_of, is_causal
from sleep_kd.models.utime import TAP_GROUPS, UTime

__all__ = ["TAP_GROUPS", "ContextNet", "UTime", "context_epochs_of", "create_model", "is_causal", "list_models",
           "model_from_config", "register_model"]
