"""Baselines every learned model is measured against: the reference pipeline (heart-rate features and a
logistic regression) and its calibration probe of simulated nights."""

from __future__ import annotations

from .reference import calibration_table, load_cohort, run_reference

__all__ = ["run_reference", "calibration_table", "load_cohort"]
