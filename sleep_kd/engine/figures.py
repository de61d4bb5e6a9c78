"""Figures logged to TensorBoard: the validation confusion matrix, one night's hypnogram and the
bottleneck-feature embedding."""

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


EMBEDDING_POINTS = 512  # validation epochs in the embedding image: enough to see the clusters, cheap to score


def log_validation_figures(writer, predictions, dataset, step: int, *, model=None, modality: str | None = None) -> None:
    """Confusion matrix of the validation split and the hypnogram of its first night, as TensorBoard images.

    With ``model`` (the bare student) and the ``modality`` it reads, also the 2-D PCA of its bottleneck
    features on up to ``EMBEDDING_POINTS`` validation epochs spread evenly over the split (no random draw:
    logging leaves the run's random streams untouched); a context model's are its per-epoch encoder's.
    """
    from sleep_kd.metrics.scores import score_predictions

    if writer is None or predictions.y_true.size == 0:
        return
    scores = score_predictions(predictions.y_true, predictions.y_pred, class_names=dataset.class_names)
    writer.add_figure("val/confusion_matrix", confusion_figure(scores["confusion_matrix"], dataset.class_names),
                      global_step=step)
    first = int(predictions.recording.min())
    night = predictions.recording == first
    order = predictions.epoch[night].argsort()
    writer.add_figure("val/hypnogram", hypnogram_figure(predictions.y_true[night][order],
                                                        predictions.y_pred[night][order], dataset.class_names,
                                                        title=dataset.recordings[first]), global_step=step)
    if model is not None and modality is not None:
        from sleep_kd.evaluation.embedding import bottleneck_features, embed, embedding_figure

        if getattr(model, "context_epochs", 0):  # items are sequences: name the epochs by (recording, epoch)
            picked = _spread(predictions.y_true.size)
            items, labels = list(zip(predictions.recording[picked].tolist(), predictions.epoch[picked].tolist())), \
                predictions.y_true[picked]
        else:
            picked = _spread(len(dataset))
            items, labels = picked.tolist(), dataset.labels[picked]
        features = bottleneck_features(model, dataset, items, modality=modality)
        writer.add_figure("val/embedding", embedding_figure([(f"{modality.upper()} bottleneck, step {step}",
                                                              embed(features), labels)],
                                                            dataset.class_names), global_step=step)


def _spread(n: int) -> np.ndarray:
    """Up to ``EMBEDDING_POINTS`` indices spread evenly over ``range(n)``."""
    return np.unique(np.linspace(0, n - 1, min(EMBEDDING_POINTS, n)).astype(int))
