"""Figures of scored epochs: a confusion matrix and one night's hypnogram (matplotlib, no screen).

Drawn for TensorBoard during training (``sleep_kd.engine.figures``) and for ``evaluate.py
--figures`` (``sleep_kd.evaluation.compare``); the bottleneck-feature embedding is in
:mod:`sleep_kd.metrics.embedding`.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # no screen on training machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def confusion_figure(matrix: np.ndarray, class_names: Sequence[str], *, title: str = "") -> plt.Figure:
    """Heat map of a confusion matrix (rows true, columns predicted), each row as a fraction."""
    matrix = np.asarray(matrix, dtype=float)
    rows = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, axes = plt.subplots(figsize=(4, 3.6))
    axes.imshow(rows, vmin=0, vmax=1, cmap="Blues")
    for i in range(len(class_names)):
        for j in range(len(class_names)):
            axes.text(j, i, f"{rows[i, j]:.2f}\n{int(matrix[i, j])}", ha="center", va="center", fontsize=7,
                      color="white" if rows[i, j] > 0.5 else "black")
    axes.set_xticks(range(len(class_names)), class_names)
    axes.set_yticks(range(len(class_names)), class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    return figure


def hypnogram_figure(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str], *,
                     epoch_s: float = 30.0, title: str = "") -> plt.Figure:
    """One night's hypnogram: the scored stages above, the predicted below (hours on the x axis)."""
    hours = np.arange(len(y_true)) * epoch_s / 3600.0
    # Draw W at the top as hypnograms usually do, deeper stages below.
    order = {name: rank for rank, name in enumerate(["Deep", "Light", "NREM", "REM", "W"])}
    levels = np.array([order.get(name, k) for k, name in enumerate(class_names)])
    figure, panels = plt.subplots(2, 1, figsize=(8, 3.2), sharex=True)
    for panel, labels, name in ((panels[0], y_true, "scored"), (panels[1], y_pred, "predicted")):
        panel.step(hours, levels[np.asarray(labels)], where="post", linewidth=0.8)
        ticks = sorted(set(levels.tolist()))
        panel.set_yticks(ticks, [class_names[int(np.where(levels == t)[0][0])] for t in ticks])
        panel.set_ylabel(name)
    panels[1].set_xlabel("hours")
    panels[0].set_title(title, fontsize=9)
    figure.tight_layout()
    return figure
