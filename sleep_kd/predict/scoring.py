"""The trained model and the one place it is called: :func:`score_night`.

Every model call of ``sleep_kd.predict`` goes through :func:`score_night`, which scores a night
with :func:`sleep_kd.evaluation.night_scoring.night_logits`, the function ``evaluate.py`` scores
a cohort's nights with: the two give the same probabilities for the same windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sleep_kd.data.preparation import Lead, Preparation, read_preparation
from sleep_kd.fast import for_scoring
from sleep_kd.engine.checkpoint import Checkpoint
from sleep_kd.engine.restore import model_from_checkpoint
from sleep_kd.evaluation.night_scoring import night_logits
from sleep_kd.evaluation.precision import DEFAULT_BATCH, scoring_precision, trained_precision
from sleep_kd.predict.channels import lead_key

_AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


def _prepared(name: str, doc: str) -> property:
    """A read-only attribute of :class:`Stager` that is its preparation's ``name``."""
    return property(lambda stager: getattr(stager.preparation, name), doc=doc)


@dataclass
class Stager:
    """A checkpoint ready to stage nights, with the data preparation its config.json records."""

    model: torch.nn.Module
    checkpoint: Checkpoint
    preparation: Preparation
    precision: str  # autocast used: no, bf16 or fp16
    # Training's leads (sleep_kd.predict.channels.lead_key) -> inverted (None: read both ways); None when
    # the checkpoint does not record them (written before data.leads existed).
    leads: dict[tuple[str, ...], bool | None] | None = None

    modality = _prepared("modality", "``ecg`` or ``eeg``")
    sfreq = _prepared("sfreq", "Hz the model reads")
    window_s = _prepared("window_s", "seconds per window")
    normalization = _prepared("normalization", "per window: minmax, zscore or none")
    class_names = _prepared("class_names", "the classes, in index order")
    n_classes = _prepared("n_classes", "number of classes")


def load_stager(checkpoint_dir: str | Path, *, precision: str = "auto", cpu: bool = False) -> Stager:
    """Rebuild a checkpoint's model (eval mode) and read how its windows were prepared."""
    model, checkpoint = model_from_checkpoint(checkpoint_dir)
    preparation = read_preparation(checkpoint.config, checkpoint=checkpoint.path)
    cuda = torch.cuda.is_available() and not cpu
    chosen = scoring_precision(precision, trained_precision(checkpoint.config), cuda=cuda)
    return Stager(model=model.to("cuda" if cuda else "cpu"), checkpoint=checkpoint, preparation=preparation,
                  precision=chosen, leads=training_leads(preparation.leads))


def training_leads(record: tuple[Lead, ...]) -> dict[tuple[str, ...], bool | None] | None:
    """A checkpoint's training leads (:attr:`Preparation.leads`) as lead -> inverted (None where
    training read a lead both ways).

    None when the checkpoint has no record, or an empty one (a cohort that did not say its leads):
    predict then keeps the rule it had before the record existed, and says so.
    """
    if not record:
        return None
    leads: dict[tuple[str, ...], bool | None] = {}
    for entry in record:
        key = lead_key(entry.lead)
        leads[key] = entry.inverted if leads.get(key, entry.inverted) == entry.inverted else None
    return leads


@torch.no_grad()
def score_night(model: torch.nn.Module, windows: np.ndarray, *, precision: str = "no",
                batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """Stage probabilities of one night's windows (:func:`~sleep_kd.evaluation.night_scoring.night_logits`).

    Parameters
    ----------
    model : a U-Time in eval mode (logits (B, n_classes) from (B, 1, n_times)), or a context model
        (scored by the rule of :mod:`sleep_kd.evaluation.night_scoring`; a causal one,
        :func:`~sleep_kd.models.is_causal`, each epoch as a live monitor shows it at its end).
    windows : (n_epochs, n_times) float32, normalised (:func:`sleep_kd.predict.night.prepare_windows`).
    precision : autocast: ``no``, ``bf16`` or ``fp16`` (see :func:`sleep_kd.evaluation.precision.scoring_precision`).
    batch_size : windows per forward pass; the whole night is scored batch after batch.

    Returns
    -------
    np.ndarray of float32, shape (n_epochs, n_classes): softmax probabilities, rows summing to 1.
    """
    device = next(model.parameters()).device
    dtype = _AUTOCAST.get(precision)
    scorer = for_scoring(model).to(device)  # a frozen copy, BatchNorm folded once for the night (sleep_kd.fast)
    with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
        logits = night_logits(scorer, torch.from_numpy(windows).to(device)[:, None, :], batch_size=batch_size)
    return torch.softmax(logits.float(), dim=-1).cpu().numpy()
