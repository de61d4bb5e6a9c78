"""Figures logged to TensorBoard at each validation: the confusion matrix, one night's hypnogram and
the bottleneck-feature embedding (drawn by :mod:`sleep_kd.metrics.figures` and
:mod:`sleep_kd.metrics.embedding`)."""

from __future__ import annotations

import numpy as np

from sleep_kd.metrics.embedding import bottleneck_features, embed, embedding_figure
from sleep_kd.metrics.figures import confusion_figure, hypnogram_figure
from sleep_kd.metrics.scores import score_predictions

EMBEDDING_POINTS = 512  # validation epochs in the embedding image: enough to see the clusters, cheap to score


def log_validation_figures(writer, predictions, dataset, step: int, *, model=None, modality: str | None = None) -> None:
    """Confusion matrix of the validation split and the hypnogram of its first night, as TensorBoard images.

    With ``model`` (the bare student) and the ``modality`` it reads, also the 2-D PCA of its bottleneck
    features on up to ``EMBEDDING_POINTS`` validation epochs spread evenly over the split (no random draw:
    logging leaves the run's random streams untouched); a context model's are its per-epoch encoder's.
    """
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
