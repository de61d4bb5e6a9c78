"""Baselines every learned model is measured against (issue 13's reference pipeline)."""

from __future__ import annotations

from .reference import calibration_table, load_cohort, run_reference

__all__ = ["run_reference", "calibration_table", "load_cohort"]
