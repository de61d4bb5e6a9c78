"""Classification terms on the student's logits: ``ce`` and class-weighted ``wce``."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from sleep_kd.errors import InputError
from sleep_kd.losses.registry import Outputs, register_loss


def balanced_class_weights(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Weights N / (K * count_k) (scikit-learn's "balanced" rule) from training labels.

    Parameters
    ----------
    labels : ndarray (N,) of int in [0, n_classes)
    n_classes : int

    Returns
    -------
    ndarray (n_classes,) float64
        K counts only the classes present, so present classes get the same weights as
        scikit-learn's; a class absent from the labels gets weight 0 (it never occurs in the
        loss, and a finite value keeps the weight vector usable).
    """
    labels = np.asarray(labels).reshape(-1)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise InputError(f"class labels must lie in [0, {n_classes}), got values from {labels.min()} to {labels.max()}")
    counts = np.bincount(labels.astype(np.int64), minlength=n_classes).astype(np.float64)
    present = counts > 0
    weights = np.zeros(n_classes, dtype=np.float64)
    weights[present] = labels.size / (present.sum() * counts[present])
    return weights


@register_loss()
def ce(student: Outputs, teacher: Outputs | None, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the student's logits (B, C) against the stages (B,), mean over the batch."""
    return F.cross_entropy(student.logits.float(), targets)


@register_loss()
def wce(student: Outputs, teacher: Outputs | None, targets: torch.Tensor, *,
        class_weights: torch.Tensor | None = None, apply_weights: bool = True) -> torch.Tensor:
    """Class-weighted cross-entropy, the weighted mean over the batch (PyTorch's convention).

    Parameters
    ----------
    class_weights : Tensor (C,)
        From :func:`balanced_class_weights` on the training split.
    apply_weights : bool
        False keeps the seed's behaviour (weights computed, then dropped): plain cross-entropy.
    """
    if not apply_weights:
        return F.cross_entropy(student.logits.float(), targets)
    if class_weights is None:
        raise InputError("loss term 'wce' needs option 'class_weights' (one weight per class from the training split)")
    weights = torch.as_tensor(class_weights, dtype=torch.float32, device=student.logits.device)
    if weights.shape != (student.logits.shape[1],):
        raise InputError(
            f"loss term 'wce' option 'class_weights' must have shape ({student.logits.shape[1]},), "
            f"got {tuple(weights.shape)}"
        )
    return F.cross_entropy(student.logits.float(), targets, weight=weights)
