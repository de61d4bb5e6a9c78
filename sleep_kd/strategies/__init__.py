"""Training strategies: named recipes of loss terms, teacher and starting point."""

from __future__ import annotations

from sleep_kd.strategies import definitions as _definitions  # noqa: F401  (registers the six variants)
from sleep_kd.strategies.registry import (
    MODALITIES, Strategy, get_strategy, list_strategies, register_strategy, unregister_strategy,
)
from sleep_kd.strategies.step import StrategyStep, build_step, freeze

__all__ = [
    "MODALITIES", "Strategy", "StrategyStep", "build_step", "freeze", "get_strategy", "list_strategies",
    "register_strategy", "unregister_strategy",
]
