"""Scoring against the true stages: the synthetic cohort's ``truth/<id>.csv`` files, read and scored here.

A synthetic cohort (:mod:`sleep_kd.data.synthetic`) knows each epoch's true stage as well as the
stage its simulated scorer gave; the truth files hold both, one row per epoch of the recording
(:mod:`sleep_kd.data.synthetic.truth`). Every figure "against the true stages" -- of a
checkpoint's predictions, a probe, a reference classifier -- reads them through
:func:`read_true_classes`, so each file is checked the same way: as many rows as the cohort has
epochs, and the same scored stages as the cohort file (else it is another cohort's truth).
Only :mod:`sleep_kd.data` and :mod:`sleep_kd.metrics` are imported, so any layer may use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from sleep_kd.data import cohort_file as store
from sleep_kd.data.stages import to_classes
from sleep_kd.data.synthetic.truth import read_truth
from sleep_kd.errors import InputError
from sleep_kd.metrics.scores import summary_scores

TRUTH_FOLDER = "truth"  # beside the cohort file, as the generator and ingest leave it


def truth_beside(cohort: str | Path) -> Path | None:
    """The ``truth/`` folder beside a cohort file, or None where there is none (a real cohort)."""
    folder = Path(cohort).parent / TRUTH_FOLDER
    return folder if folder.is_dir() else None


def read_true_classes(truth_dir: str | Path, recording_id: str, *, scored_stage: np.ndarray,
                      n_classes: int) -> np.ndarray:
    """True class of each epoch of one recording: (n_epochs,) int64, -1 where the truth is not a class.

    Parameters
    ----------
    scored_stage : the cohort file's stage codes of the recording's epochs (n_epochs,), which the
        truth file's ``scored_stage`` column must equal.

    InputError, naming the file, when it is missing, has another number of epochs or other scored stages.
    """
    path = Path(truth_dir) / f"{recording_id}.csv"
    if not path.is_file():
        raise InputError(f"{truth_dir}: no truth file for recording {recording_id!r} (pass --truth DIR)")
    truth = read_truth(path)
    if len(truth.true) != len(scored_stage):
        raise InputError(f"{path}: {len(truth.true)} truth epochs, expected {len(scored_stage)} as in the cohort file")
    if not np.array_equal(truth.scored, np.asarray(scored_stage, dtype=truth.scored.dtype)):
        raise InputError(f"{path}: scored stages differ from the cohort file's (not this cohort's truth?)")
    return to_classes(truth.true, n_classes).astype(np.int64)


def true_classes_of(cohort: str | Path, truth_dir: str | Path, recording_ids: Sequence[str],
                    epochs: np.ndarray, *, n_classes: int) -> np.ndarray:
    """True class of each of a set of epochs: (n,) int64, -1 where the truth is not a class.

    Parameters
    ----------
    cohort : the cohort file the epochs are indices into.
    recording_ids : (n,) the recording id of each epoch.
    epochs : (n,) int, each epoch's index within its recording.
    """
    recording_ids, epochs = np.asarray(recording_ids, dtype=str), np.asarray(epochs, dtype=np.int64)
    out = np.full(epochs.shape, -1, dtype=np.int64)
    with store.open_cohort(cohort) as handle:
        for rid in np.unique(recording_ids):
            scored = store.read_epochs(handle, str(rid)).stage
            mine = recording_ids == rid
            out[mine] = read_true_classes(truth_dir, str(rid), scored_stage=scored, n_classes=n_classes)[epochs[mine]]
    return out


def true_classes_of_predictions(predictions, dataset, truth_dir: str | Path) -> np.ndarray:
    """:func:`true_classes_of` the epochs of a scoring pass (``predict_checkpoint``'s predictions and dataset)."""
    ids = np.asarray(dataset.recordings, dtype=str)[predictions.recording]
    return true_classes_of(dataset.path, truth_dir, ids, predictions.epoch, n_classes=dataset.n_classes)


def scores_against_truth(predictions, dataset, truth_dir: str | Path) -> dict[str, float]:
    """Accuracy, kappa, macro and weighted F1 of the predictions against the true stages.

    Counted on the epochs that are a class in the truth as well (an epoch the scorer staged but
    the truth does not, or the reverse, does not count).
    """
    true = true_classes_of_predictions(predictions, dataset, truth_dir)
    kept = true >= 0
    return summary_scores(true[kept], predictions.y_pred[kept], dataset.n_classes)
