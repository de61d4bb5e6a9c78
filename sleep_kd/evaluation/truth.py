"""Scoring against the true stages: the synthetic cohort's ``truth/<id>.csv`` files, read and scored here.

A synthetic cohort (:mod:`sleep_kd.data.synthetic`) knows each epoch's true stage as well as the
stage its simulated scorer gave; the truth files hold both, one row per epoch of the recording
(:mod:`sleep_kd.data.synthetic.truth`). Every figure "against the true stages" -- of a
checkpoint's predictions, a probe, a reference classifier -- reads them through
:func:`sleep_kd.data.synthetic.truth.read_true_classes` (in the data layer, so the reference
pipeline reads them the same way), so each file is checked alike: as many rows as the cohort has
epochs, and the same scored stages as the cohort file (else it is another cohort's truth).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from sleep_kd.data import cohort_file as store
from sleep_kd.data.synthetic.truth import read_true_classes
from sleep_kd.metrics.scores import summary_scores

TRUTH_FOLDER = "truth"  # beside the cohort file, as the generator and ingest leave it


def truth_beside(cohort: str | Path) -> Path | None:
    """The ``truth/`` folder beside a cohort file, or None where there is none (a real cohort)."""
    folder = Path(cohort).parent / TRUTH_FOLDER
    return folder if folder.is_dir() else None


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
