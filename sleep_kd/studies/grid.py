"""The distillation options a study tries (``--grid sd.temperature=1,4``), as training options."""

from __future__ import annotations

import itertools

from sleep_kd.cli.train import TrainOptions
from sleep_kd.errors import InputError

GRID_TERMS = {"sd": ("kd_temp", "feat_temp"), "at": ("feat_train",)}  # loss term -> the strategies that use it


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """``["sd.temperature=1,4"]`` -> ``{"sd.temperature": ["1", "4"]}``; only loss options of sd and at.

    Every value is checked by its config key's rule (``loss.sd.temperature``) here, before any run.
    """
    from sleep_kd.engine.schema import SCHEMA, check_value

    grid: dict[str, list[str]] = {}
    for item in items:
        key, _, values = item.partition("=")
        if not values or key.split(".")[0] not in GRID_TERMS or key.count(".") != 1:
            raise InputError(f"--grid {item!r}: expected sd.OPTION=V1,V2 or at.OPTION=V1,V2")
        if f"loss.{key}" not in SCHEMA:
            term = key.split(".")[0]
            known = ", ".join(k.split(".")[-1] for k in SCHEMA if k.startswith(f"loss.{term}."))
            raise InputError(f"--grid {item!r}: loss term '{term}' has no option '{key.split('.')[1]}' "
                             f"(its options: {known})")
        for value in values.split(","):
            check_value(f"loss.{key}", value, origin=f"--grid {item}")
        grid[key] = values.split(",")
    return grid


def candidates(grid: dict[str, list[str]], term: str) -> list[dict[str, str]]:
    """Every combination of the grid's options of one loss term (one empty candidate without any)."""
    keys = [k for k in grid if k.split(".")[0] == term]
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))] or [{}]


def loss_options(options: dict[str, str]) -> TrainOptions:
    """``{"sd.alpha": "0.9"}`` -> the override ``loss.sd.alpha=0.9``."""
    return TrainOptions.of(*(f"loss.{key}={value}" for key, value in options.items()))
