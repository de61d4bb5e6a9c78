"""The papers' case analysis: where a student and the ECG base disagree about being right.

Case 1: the student is right where the ECG base is wrong (what distillation gained); case 2: the
student is wrong where the ECG base is right (what it lost). Counted on the epochs both scored.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def epoch_keys(recording_ids: Sequence[str], recording: np.ndarray, epoch: np.ndarray) -> list[tuple[str, int]]:
    """(recording id, epoch index) of each scored epoch: the same epoch has the same key in every model."""
    return [(recording_ids[int(r)], int(e)) for r, e in zip(recording, epoch)]


def align(base_keys: Sequence, other_keys: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(i, j)`` with ``base_keys[i] == other_keys[j]``, in the base's order."""
    where = {key: j for j, key in enumerate(other_keys)}
    pairs = [(i, where[key]) for i, key in enumerate(base_keys) if key in where]
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    i, j = np.array(pairs, dtype=np.int64).T
    return i, j


def _counts(y_true: np.ndarray, base: np.ndarray, student: np.ndarray) -> dict:
    base_right, student_right = base == y_true, student == y_true
    case1 = int(np.count_nonzero(student_right & ~base_right))
    case2 = int(np.count_nonzero(~student_right & base_right))
    n, base_wrong = int(y_true.size), int(np.count_nonzero(~base_right))
    return {"n_epochs": n, "case1": case1, "case2": case2,
            "case1_rate": case1 / n if n else 0.0, "case2_rate": case2 / n if n else 0.0,
            "case1_of_base_errors": case1 / base_wrong if base_wrong else 0.0,
            "case2_of_base_correct": case2 / (n - base_wrong) if n - base_wrong else 0.0,
            "net_gain": case1 - case2}


def case_analysis(y_true: np.ndarray, base_pred: np.ndarray, student_pred: np.ndarray,
                  class_names: Sequence[str]) -> dict:
    """Case 1 / case 2 counts and rates over all epochs and per true stage.

    Parameters
    ----------
    y_true, base_pred, student_pred : int arrays (n_epochs,) over the same epochs.

    Returns
    -------
    dict: ``n_epochs``, ``case1``, ``case2`` (counts), ``case1_rate``, ``case2_rate`` (of all epochs),
    ``case1_of_base_errors`` (of the epochs the ECG base got wrong), ``case2_of_base_correct``,
    ``net_gain`` (case1 - case2) and ``per_class`` (the same per true stage name).
    """
    y_true, base_pred, student_pred = (np.asarray(a, dtype=np.int64) for a in (y_true, base_pred, student_pred))
    result = _counts(y_true, base_pred, student_pred)
    result["per_class"] = {name: _counts(y_true[y_true == k], base_pred[y_true == k], student_pred[y_true == k])
                           for k, name in enumerate(class_names)}
    return result


def format_cases(label: str, base_label: str, cases: dict) -> str:
    """Lines for the printed report: overall, then per stage."""
    lines = [f"{label} against {base_label} on {cases['n_epochs']} epochs: case 1 (student right, ECG base "
             f"wrong) {cases['case1']} ({100 * cases['case1_rate']:.1f} %), case 2 (student wrong, ECG base "
             f"right) {cases['case2']} ({100 * cases['case2_rate']:.1f} %), net {cases['net_gain']:+d}"]
    for name, row in cases["per_class"].items():
        lines.append(f"  {name:<6} {row['n_epochs']:>6} epochs: case 1 {row['case1']:>5} "
                     f"({100 * row['case1_rate']:5.1f} %), case 2 {row['case2']:>5} ({100 * row['case2_rate']:5.1f} %)")
    return "\n".join(lines)
