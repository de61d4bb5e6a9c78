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
from sleep_kd.models import context_epochs_of, is_causal
from sleep_kd.engine.restore import model_from_checkpoint
from sleep_kd.errors import InputError
from sleep_kd.evaluation.live import live_logits
from sleep_kd.evaluation.precision import DEFAULT_BATCH, scoring_precision, trained_precision
from sleep_kd.predict.channels import lead_key

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
    # Training's leads (sleep_kd.predict.channels.lead_key) -> inverted (None: read both ways); None when
    # the checkpoint does not record them (written before data.leads existed).
    leads: dict[tuple[str, ...], bool | None] | None = None

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
                  normalization=str(prep["normalization"]), class_names=names, precision=chosen,
                  leads=training_leads(prep.get("leads"), source=checkpoint.path / "config.json"))


def training_leads(record, *, source: Path) -> dict[tuple[str, ...], bool | None] | None:
    """``data.leads`` of a checkpoint as lead -> inverted (None where training read a lead both ways).

    None when the checkpoint has no record, or an empty one (a cohort that did not say its leads):
    predict then keeps the rule it had before the record existed, and says so.
    """
    if not record:
        return None
    leads: dict[tuple[str, ...], bool | None] = {}
    for entry in record if isinstance(record, list) else [record]:
        if not (isinstance(entry, dict) and isinstance(entry.get("lead"), str)
                and isinstance(entry.get("inverted"), bool)):
            raise InputError(f"checkpoint {source}: data.leads holds {entry!r}; expected "
                             "{'lead': NAME, 'inverted': true or false, ...}")
        key = lead_key(entry["lead"])
        leads[key] = entry["inverted"] if leads.get(key, entry["inverted"]) == entry["inverted"] else None
    return leads


@torch.no_grad()
def score_night(model: torch.nn.Module, windows: np.ndarray, *, precision: str = "no",
                batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """Stage probabilities of one night's windows.

    Parameters
    ----------
    model : a U-Time in eval mode (logits (B, n_classes) from (B, 1, n_times)), or a context model
        (T-epoch sequences averaged; a causal one, :func:`~sleep_kd.models.is_causal`, each epoch as a
        live monitor shows it at its end: :mod:`sleep_kd.evaluation.live`).
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
    if is_causal(model):
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = live_logits(scorer, torch.from_numpy(windows).to(device)[:, None, :], batch_size=batch_size)
        return torch.softmax(logits.float(), dim=-1).cpu().numpy()
    if context_epochs_of(model):
        return _score_with_context(scorer, windows, context=context_epochs_of(model), device=device, dtype=dtype,
                                   batch_size=batch_size)
    for first in range(0, len(windows), batch_size):
        batch = torch.from_numpy(windows[first:first + batch_size]).to(device)[:, None, :]
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = scorer(batch)
        parts.append(torch.softmax(logits.float(), dim=1).cpu())
    return torch.cat(parts).numpy()


def sequence_starts(n_epochs: int, context: int) -> list[int]:
    """First epochs of the T-epoch sequences that tile a night with half overlap, the last ending with it."""
    if n_epochs <= context:
        return [0]
    starts = list(range(0, n_epochs - context + 1, max(1, context // 2)))
    return starts if starts[-1] == n_epochs - context else [*starts, n_epochs - context]


def _score_with_context(scorer, windows: np.ndarray, *, context: int, device, dtype, batch_size: int) -> np.ndarray:
    """A context network's probabilities: T-epoch sequences with half overlap, averaged per epoch.

    The network sees sequences of exactly the length it was trained on (a night shorter than T is
    padded with zero windows, as training pads), so a night is scored as training read it; each
    epoch's probability is the mean over the sequences that hold it.
    """
    n_epochs, n_times = windows.shape
    padded = np.zeros((max(n_epochs, context), n_times), dtype=np.float32)
    padded[:n_epochs] = windows
    starts = sequence_starts(n_epochs, context)
    total, count = None, np.zeros(len(padded), dtype=np.float64)
    per_batch = max(1, batch_size // context)
    for first in range(0, len(starts), per_batch):
        chunk = starts[first:first + per_batch]
        batch = torch.from_numpy(np.stack([padded[s:s + context] for s in chunk])).to(device)[:, :, None, :]
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = scorer(batch)
        proba = torch.softmax(logits.float(), dim=-1).cpu().numpy().astype(np.float64)  # (b, T, C)
        if total is None:
            total = np.zeros((len(padded), proba.shape[-1]))
        for start, rows in zip(chunk, proba):
            total[start:start + context] += rows
            count[start:start + context] += 1
    return (total[:n_epochs] / count[:n_epochs, None]).astype(np.float32)
