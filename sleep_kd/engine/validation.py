"""One pass of a model over a split: predictions gathered from every process, scores, loss terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import torch

from sleep_kd.metrics.scores import summary_scores


@dataclass
class Predictions:
    """Everything one pass produced, gathered across processes, each epoch once.

    Arrays are (n_epochs,): true and predicted class, recording index (into the dataset's
    ``recordings``) and epoch index within that recording.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    recording: np.ndarray
    epoch: np.ndarray
    losses: dict[str, float]
    probabilities: np.ndarray | None = None  # (n_epochs, n_classes) softmax, when asked for


@torch.no_grad()
def predict(accelerator, loader, forward: Callable[[Mapping], Mapping[str, torch.Tensor]], *,
            progress: bool = False, probabilities: bool = False) -> Predictions:
    """Run ``forward(batch) -> {"logits": (B, C) or (B, T, C), "<term>_loss": scalar, ...}`` over ``loader``.

    ``gather_for_metrics`` drops the samples that padding duplicated on the last batch, so every
    epoch counts once whatever the number of processes. Loss terms are batch means averaged with
    batch-size weights (a padded duplicate may count twice there: they are for monitoring only).
    ``probabilities=True`` also keeps each epoch's softmax (float32).
    """
    from tqdm.auto import tqdm

    parts: dict[str, list[torch.Tensor]] = {"y_true": [], "y_pred": [], "recording": [], "epoch": []}
    if probabilities:
        parts["probabilities"] = []
    sums: dict[str, torch.Tensor] = {}
    count = torch.zeros((), device=accelerator.device)
    for batch in tqdm(loader, desc="validate", leave=False, disable=not (progress and accelerator.is_main_process)):
        with accelerator.autocast():
            out = forward(batch)
        size = torch.tensor(float(batch["label"].shape[0]), device=accelerator.device)
        count += size
        for key, value in out.items():
            if key.endswith("_loss") or key == "loss":
                sums[key] = sums.get(key, torch.zeros((), device=accelerator.device)) + value.detach().float() * size
        kept = (batch["label"], out["logits"].argmax(dim=-1), batch["recording"], batch["epoch"])
        if probabilities:
            kept += (out["logits"].float().softmax(dim=-1),)
        gathered = accelerator.gather_for_metrics(kept)
        for key, value in zip(parts, gathered):
            parts[key].append(value.cpu())
    total = accelerator.reduce(count, reduction="sum")
    losses = {key: float(accelerator.reduce(value, reduction="sum") / total) for key, value in sums.items()}
    arrays = {key: torch.cat(values).reshape(-1).numpy() if values else np.zeros(0, dtype=np.int64)
              for key, values in parts.items() if key != "probabilities"}
    if probabilities:
        arrays["probabilities"] = torch.cat(parts["probabilities"]).reshape(arrays["y_true"].size, -1).numpy()
    # Context batches are (B, T); epochs labelled -1 (unscored, padding, repeats) are not counted.
    counted = arrays["y_true"] >= 0
    return Predictions(**{key: value[counted] for key, value in arrays.items()}, losses=losses)


def validation_metrics(predictions: Predictions, n_classes: int) -> dict[str, float]:
    """Accuracy, kappa, macro/weighted F1 and every loss term of a validation pass (flat dict)."""
    metrics = summary_scores(predictions.y_true, predictions.y_pred, n_classes)
    metrics.update(predictions.losses)
    return metrics
