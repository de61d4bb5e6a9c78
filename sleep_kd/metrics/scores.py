"""Scores of a set of predicted sleep stages: the figures the contract's ``evaluate.py --json`` holds.

The seed reported weighted F1, accuracy, per-class F1 and the confusion matrix; we add Cohen's
kappa and macro F1 (the field's usual headline figures) and per-subject figures, since a stager is
used one night at a time.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import (accuracy_score, cohen_kappa_score, confusion_matrix, f1_score,
                             precision_recall_fscore_support)


def _kappa(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    # sklearn returns NaN when both raters use one single class; agreement is then perfect or none.
    if len(np.union1d(y_true, y_pred)) <= 1:
        return 1.0 if np.array_equal(y_true, y_pred) else 0.0
    return float(cohen_kappa_score(y_true, y_pred))


def summary_scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, float]:
    """Accuracy, Cohen's kappa, macro and weighted F1 of one set of epochs.

    Parameters
    ----------
    y_true, y_pred : int arrays (n_epochs,) of class indices in ``[0, n_classes)``.
    """
    labels = list(range(n_classes))
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "kappa": _kappa(y_true, y_pred),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)),
    }


def score_predictions(y_true: np.ndarray, y_pred: np.ndarray, *, class_names: Sequence[str],
                      subjects: np.ndarray | None = None) -> dict:
    """Every figure of the contract's evaluation report.

    Parameters
    ----------
    y_true, y_pred : int arrays (n_epochs,).
    class_names : names of the classes, in index order.
    subjects : optional array (n_epochs,) of subject ids, for the per-subject figures.

    Returns
    -------
    dict with ``accuracy``, ``kappa``, ``macro_f1``, ``weighted_f1``, ``n_epochs``, ``classes``,
    ``per_class`` (per name: precision, recall, f1, support), ``confusion_matrix`` (rows true,
    columns predicted) and ``per_subject`` (list of {subject, n_epochs, accuracy, kappa, macro_f1}).
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    n_classes = len(class_names)
    labels = list(range(n_classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    report = summary_scores(y_true, y_pred, n_classes)
    report["n_epochs"] = int(len(y_true))
    report["classes"] = list(class_names)
    report["per_class"] = {
        name: {"precision": float(precision[k]), "recall": float(recall[k]), "f1": float(f1[k]),
               "support": int(support[k])}
        for k, name in enumerate(class_names)
    }
    report["confusion_matrix"] = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    report["per_subject"] = per_subject_scores(y_true, y_pred, subjects, n_classes) if subjects is not None else []
    return report


def per_subject_scores(y_true: np.ndarray, y_pred: np.ndarray, subjects: np.ndarray,
                       n_classes: int) -> list[dict]:
    """One row per subject (sorted by id): n_epochs, accuracy, kappa, macro F1."""
    subjects = np.asarray(subjects)
    rows = []
    for subject in sorted(set(subjects.tolist())):
        mask = subjects == subject
        scores = summary_scores(y_true[mask], y_pred[mask], n_classes)
        rows.append({"subject": str(subject), "n_epochs": int(mask.sum()), "accuracy": scores["accuracy"],
                     "kappa": scores["kappa"], "macro_f1": scores["macro_f1"]})
    return rows


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, interquartile range, minimum and maximum of per-subject figures."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        return {"median": float("nan"), "iqr": float("nan"), "min": float("nan"), "max": float("nan")}
    q1, median, q3 = np.percentile(array, [25, 50, 75])
    return {"median": float(median), "iqr": float(q3 - q1), "min": float(array.min()), "max": float(array.max())}
