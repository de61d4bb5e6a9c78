"""Score a checkpoint on a split of a cohort, from the checkpoint alone (no teacher, no run folder)."""

from __future__ import annotations

from pathlib import Path
import numpy as np
import torch

from sleep_kd.data.dataset import CohortWindows
from sleep_kd.data.splits import make_splits
from sleep_kd.engine.restore import model_from_checkpoint
from sleep_kd.engine.validation import predict
from sleep_kd.errors import InputError
from sleep_kd.metrics.scores import score_predictions

SPLITS = ("train", "val", "test", "all")


def split_of(path: Path, data: dict, split: str) -> list[str] | None:
    """Recording ids of ``split`` under the checkpoint's own split rule (None = every recording)."""
    if split == "all":
        return None
    if split not in SPLITS:
        raise InputError(f"--split must be one of {', '.join(SPLITS)}, got '{split}'")
    return make_splits(path, method=data.get("split", "pooled"), seed=data.get("split_seed", 42),
                       k=data.get("folds", 5), fold=data.get("fold", 0),
                       save=False)[split]  # scoring only reads: the cohort folder may be read-only


def predict_checkpoint(checkpoint_dir: str | Path, *, data: str | Path | None = None, split: str = "test",
                       batch_size: int = 256, cpu: bool = False):
    """Predictions of a checkpoint on a split: ``(Predictions, dataset, checkpoint)``.

    Parameters
    ----------
    checkpoint_dir : a folder with model.safetensors, config.json (as train_loop.py writes).
    data : HDF5 cohort; default: the cohort the checkpoint was trained on.
    split : train, val, test (the checkpoint's own subject split) or all.
    """
    from accelerate import Accelerator

    model, checkpoint = model_from_checkpoint(checkpoint_dir)
    prep = checkpoint.config.get("data")
    prep = prep if isinstance(prep, dict) else {}
    missing = [key for key in ("n_classes", "sfreq", "window_s", "normalization") if key not in prep]
    if missing:
        raise InputError(f"checkpoint {checkpoint.path}: config.json has no data.{missing[0]} "
                         "(expected a checkpoint written by train_loop.py)")
    path = Path(data) if data is not None else Path(prep.get("path", ""))
    if not path.is_file():
        raise InputError(f"cohort file {path} does not exist (pass --data FILE.h5)")
    modality = prep.get("modality", "ecg")
    dataset = CohortWindows(path, n_classes=int(prep["n_classes"]), recordings=split_of(path, prep, split),
                            sfreq=float(prep["sfreq"]), window_s=float(prep["window_s"]),
                            normalization=prep["normalization"], modalities=(modality,))
    accelerator = Accelerator(cpu=cpu)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)
    model, loader = accelerator.prepare(model, loader)
    model.eval()
    predictions = predict(accelerator, loader, lambda batch: {"logits": model(batch[modality])})
    return predictions, dataset, checkpoint


def evaluate_checkpoint(checkpoint_dir: str | Path, *, data: str | Path | None = None, split: str = "test",
                        batch_size: int = 256, cpu: bool = False) -> dict:
    """Every figure of the contract's report for one checkpoint, plus ``strategy``, ``checkpoint``,
    ``data``, ``split`` and ``modality`` (see :func:`predict_checkpoint` for the arguments)."""
    predictions, dataset, checkpoint = predict_checkpoint(checkpoint_dir, data=data, split=split,
                                                          batch_size=batch_size, cpu=cpu)
    subjects = np.asarray(dataset.subjects)[predictions.recording]
    report = score_predictions(predictions.y_true, predictions.y_pred, class_names=dataset.class_names,
                               subjects=subjects)
    report.update(strategy=checkpoint.config.get("strategy", "?"), checkpoint=str(checkpoint.path),
                  data=str(dataset.path), split=split,
                  modality=checkpoint.config.get("data", {}).get("modality", "ecg"))
    return report
