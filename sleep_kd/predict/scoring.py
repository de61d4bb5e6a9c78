"""The trained model and the one place it is called: :func:`score_night`.

Every model call of ``sleep_kd.predict`` goes through :func:`score_night`, so a faster scoring
path (or a model that reads a whole night at once) is wired in here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sleep_kd.data.stages import class_names as names_of
from sleep_kd.engine.checkpoint import Checkpoint
from sleep_kd.deploy import for_scoring
from sleep_kd.engine.restore import model_from_checkpoint
from sleep_kd.errors import InputError
from sleep_kd.evaluation.precision import DEFAULT_BATCH, scoring_precision, trained_precision

_PREP_KEYS = ("n_classes", "sfreq", "window_s", "normalization")
_AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class Stager:
    """A checkpoint ready to stage nights, with the data preparation its config.json records."""

    model: torch.nn.Module
    checkpoint: Checkpoint
    modality: str  # "ecg" or "eeg"
    sfreq: float  # Hz the model reads
    window_s: float  # seconds per window
    normalization: str
    class_names: tuple[str, ...]
    precision: str  # autocast used: no, bf16 or fp16

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def load_stager(checkpoint_dir: str | Path, *, precision: str = "auto", cpu: bool = False) -> Stager:
    """Rebuild a checkpoint's model (eval mode) and read how its windows were prepared."""
    model, checkpoint = model_from_checkpoint(checkpoint_dir)
    prep = checkpoint.config.get("data")
    prep = prep if isinstance(prep, dict) else {}
    missing = [key for key in _PREP_KEYS if key not in prep]
    if missing:
        raise InputError(f"checkpoint {checkpoint.path}: config.json has no data.{missing[0]} "
                         "(expected a checkpoint written by train_loop.py)")
    cuda = torch.cuda.is_available() and not cpu
    chosen = scoring_precision(precision, trained_precision(checkpoint.config), cuda=cuda)
    model = model.to("cuda" if cuda else "cpu")
    names = tuple(prep.get("class_names") or names_of(int(prep["n_classes"])))
    return Stager(model=model, checkpoint=checkpoint, modality=str(prep.get("modality", "ecg")),
                  sfreq=float(prep["sfreq"]), window_s=float(prep["window_s"]),
                  normalization=str(prep["normalization"]), class_names=names, precision=chosen)


@torch.no_grad()
def score_night(model: torch.nn.Module, windows: np.ndarray, *, precision: str = "no",
                batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """Stage probabilities of one night's windows.

    Parameters
    ----------
    model : a U-Time in eval mode (logits (B, n_classes) from (B, 1, n_times)).
    windows : (n_epochs, n_times) float32, normalised (:func:`sleep_kd.predict.night.prepare_windows`).
    precision : autocast: ``no``, ``bf16`` or ``fp16`` (see :func:`sleep_kd.evaluation.precision.scoring_precision`).
    batch_size : windows per forward pass; the whole night is scored batch after batch.

    Returns
    -------
    np.ndarray of float32, shape (n_epochs, n_classes): softmax probabilities, rows summing to 1.
    """
    device = next(model.parameters()).device
    dtype = _AUTOCAST.get(precision)
    parts = []
    scorer = for_scoring(model).to(device)  # a frozen copy, BatchNorm folded once for the night (sleep_kd.deploy)
    for first in range(0, len(windows), batch_size):
        batch = torch.from_numpy(windows[first:first + batch_size]).to(device)[:, None, :]
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = scorer(batch)
        parts.append(torch.softmax(logits.float(), dim=1).cpu())
    return torch.cat(parts).numpy()
