"""The reference pipeline: 20 lines of features and a logistic regression.

For every night of a cohort HDF5 file: R peaks from the stored ECG; per epoch (30 s centred)
the mean and SD of heart rate, RMSSD, median and range of RR (:mod:`.features`); each feature
robust-scaled per night (median / IQR); optionally the features of the +-5 neighbouring epochs
beside them; a logistic regression; subject-wise folds (each night one subject; night ``i`` in
fold ``i % n_folds``, so no subject is both trained and tested on); 4 classes W / light / deep /
REM; Cohen's kappa of all held-out epochs pooled. The same with log EEG band powers for the EEG
side. Labels are the scored stages of the file, and the true stages where the cohort keeps
them (``truth/<id>.csv`` beside a synthetic cohort).

It is the first row of every results table: a learned model that does not beat it has not
learned the heart. :func:`run_reference` returns everything as a dict;
:func:`calibration_table` formats it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sleep_kd.data import cohort_file as store
from sleep_kd.data.stages import class_names, to_classes
from sleep_kd.data.synthetic.truth import read_true_classes
from sleep_kd.errors import InputError

from .features import band_powers, hr_features, r_peaks, robust_scale, with_context

CLASSES = class_names(4)  # ("W", "Light", "Deep", "REM")
CONTEXT = 5


@dataclass
class NightFeatures:
    """One night's features and labels (4-class codes, -1 where not scorable)."""

    recording_id: str
    ecg: np.ndarray  # (n_epochs, 5) robust-scaled heart-rate features
    eeg: np.ndarray  # (n_epochs, n_bands) robust-scaled log band powers
    hr_bpm: np.ndarray  # (n_epochs,) mean heart rate, NaN where the signal was lost
    scored: np.ndarray  # (n_epochs,) int
    true: np.ndarray | None  # (n_epochs,) int, or None without truth files


def night_features(handle, recording_id: str, sfreq: float, truth_dir: Path | None) -> NightFeatures:
    """Features of one recording of an open cohort file."""
    group = handle["recordings"][recording_id]
    if "ecg" not in group:
        raise InputError(f"{handle.filename}: recording {recording_id!r} has no ECG")
    epochs = store.read_epochs(handle, recording_id)
    stage = np.asarray(epochs.stage, dtype=int)
    hr = hr_features(r_peaks(group["ecg"][()], sfreq), epochs.onset, epochs.duration)
    eeg = band_powers(group["eeg"][()], sfreq, epochs.onset, epochs.duration)
    truth = None
    if truth_dir is not None and (truth_dir / f"{recording_id}.csv").is_file():
        truth = read_true_classes(truth_dir, recording_id, scored_stage=stage, n_classes=4)
    return NightFeatures(recording_id, robust_scale(hr), robust_scale(eeg), hr[:, 0],
                         to_classes(stage, 4), truth)


def load_cohort(path: str | Path, *, truth_dir: str | Path | None = None) -> list[NightFeatures]:
    """Features of every night in a cohort file; ``truth_dir`` defaults to ``truth/`` beside it."""
    path = Path(path)
    truth = Path(truth_dir) if truth_dir is not None else path.parent / "truth"
    with store.open_cohort(path) as handle:
        sfreq = float(handle.attrs["sfreq"])
        return [night_features(handle, rid, sfreq, truth if truth.is_dir() else None)
                for rid in store.recording_ids(handle)]


def cross_validated_kappa(nights: list[NightFeatures], *, modality: str, labels: str,
                          context: int, n_folds: int = 5, seed: int = 0) -> float:
    """Pooled Cohen's kappa of held-out nights, folds by subject (night ``i`` in fold ``i % k``)."""
    from sklearn.metrics import cohen_kappa_score
    from threadpoolctl import threadpool_limits

    xs = [with_context(getattr(n, modality), context) for n in nights]
    ys = [getattr(n, labels) for n in nights]
    k = min(n_folds, len(nights))
    if k < 2:
        raise InputError(f"reference pipeline: needs at least 2 nights for subject-wise folds, got {len(nights)}")
    truths, preds = [], []
    # One BLAS/OpenMP thread: these fits are small, and on a busy machine more threads make
    # lbfgs tens of times slower (measured: 18.6 s against 0.38 s for 12,000 x 55 features).
    with threadpool_limits(1):
        for fold in range(k):
            _fit_fold(xs, ys, k, fold, seed, truths, preds)
    return float(cohen_kappa_score(np.concatenate(truths), np.concatenate(preds)))


def _fit_fold(xs: list, ys: list, k: int, fold: int, seed: int, truths: list, preds: list) -> None:
    """Train on the nights outside ``fold``, predict those in it (appends to truths, preds)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = [i for i in range(len(xs)) if i % k != fold]
    test = [i for i in range(len(xs)) if i % k == fold]
    x_tr, y_tr = np.concatenate([xs[i] for i in train]), np.concatenate([ys[i] for i in train])
    x_te, y_te = np.concatenate([xs[i] for i in test]), np.concatenate([ys[i] for i in test])
    keep_tr, keep_te = y_tr >= 0, y_te >= 0
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    model.fit(x_tr[keep_tr], y_tr[keep_tr])
    truths.append(y_te[keep_te])
    preds.append(model.predict(x_te[keep_te]))


def heart_rate_by_stage(nights: list[NightFeatures], *, labels: str = "scored") -> dict[str, dict[str, float]]:
    """Per stage, mean over nights of (mean epoch heart rate minus the night's median) and of
    the within-stage SD of the epoch heart rate, bpm; nights without the stage are skipped."""
    offsets, sds = {c: [] for c in CLASSES}, {c: [] for c in CLASSES}
    for n in nights:
        y = getattr(n, labels)
        ok = (y >= 0) & np.isfinite(n.hr_bpm)
        median = np.median(n.hr_bpm[ok])
        for code, name in enumerate(CLASSES):
            hr = n.hr_bpm[ok & (y == code)]
            if len(hr) >= 2:
                offsets[name].append(hr.mean() - median)
                sds[name].append(hr.std())
    return {"offset_bpm": {c: float(np.mean(v)) if v else float("nan") for c, v in offsets.items()},
            "within_sd_bpm": {c: float(np.mean(v)) if v else float("nan") for c, v in sds.items()}}


def stage_shares(nights: list[NightFeatures], *, labels: str = "scored") -> dict[str, float]:
    """Share of each class among the scorable epochs of all nights."""
    y = np.concatenate([getattr(n, labels) for n in nights])
    y = y[y >= 0]
    return {c: float(np.mean(y == k)) for k, c in enumerate(CLASSES)}


def run_reference(path: str | Path, *, truth_dir: str | Path | None = None, n_folds: int = 5,
                  nights: list[NightFeatures] | None = None) -> dict:
    """The whole reference pipeline on a cohort file.

    Returns
    -------
    dict
        ``kappa``: ``{"<ecg|eeg>/<epoch|context>/<scored|true>": kappa}`` (``true`` only with
        truth files); ``heart_rate``: :func:`heart_rate_by_stage` on the scored stages;
        ``shares``: ``{"scored": ..., "true": ...}``; ``n_nights``, ``n_epochs``, ``path``.
    """
    nights = nights if nights is not None else load_cohort(path, truth_dir=truth_dir)
    label_sets = ["scored"] + (["true"] if all(n.true is not None for n in nights) else [])
    kappa = {}
    for modality in ("ecg", "eeg"):
        for name, context in (("epoch", 0), ("context", CONTEXT)):
            for labels in label_sets:
                kappa[f"{modality}/{name}/{labels}"] = cross_validated_kappa(
                    nights, modality=modality, labels=labels, context=context, n_folds=n_folds)
    return {"path": str(path), "n_nights": len(nights),
            "n_epochs": int(sum(np.sum(n.scored >= 0) for n in nights)), "kappa": kappa,
            "heart_rate": heart_rate_by_stage(nights), "shares": {s: stage_shares(nights, labels=s) for s in label_sets}}


def calibration_table(result: dict) -> str:
    """The calibration table (the reference pipeline's kappas per signal and label) as Markdown, from
    :func:`run_reference`'s dict."""
    k = result["kappa"]
    fmt = lambda key: f"{k[key]:.3f}" if key in k else "-"  # noqa: E731
    per_stage = lambda d, spec: " / ".join(format(d[c], spec) for c in CLASSES)  # noqa: E731
    hr = result["heart_rate"]
    rows = [f"| reference ECG pipeline, epoch alone | {fmt('ecg/epoch/scored')} | {fmt('ecg/epoch/true')} |",
            f"| the same with +-{CONTEXT} epochs of neighbours' features | {fmt('ecg/context/scored')} | "
            f"{fmt('ecg/context/true')} |",
            f"| EEG band powers, epoch alone | {fmt('eeg/epoch/scored')} | {fmt('eeg/epoch/true')} |",
            f"| EEG band powers, +-{CONTEXT} epochs | {fmt('eeg/context/scored')} | {fmt('eeg/context/true')} |",
            f"| mean epoch HR minus the night's median, W / light / deep / REM (bpm) | "
            f"{per_stage(hr['offset_bpm'], '+.1f')} | |",
            f"| within-stage SD of the epoch HR, mean over nights (bpm) | {per_stage(hr['within_sd_bpm'], '.1f')} | |",
            f"| stage shares W / light / deep / REM (%) | "
            f"{per_stage({c: 100 * v for c, v in result['shares']['scored'].items()}, '.1f')} | "
            + (per_stage({c: 100 * v for c, v in result['shares']['true'].items()}, '.1f')
               if "true" in result["shares"] else "") + " |"]
    head = [f"{result['n_nights']} nights, {result['n_epochs']} scorable epochs: {result['path']}", "",
            "| | scored stages (kappa) | true stages (kappa) |", "| --- | --- | --- |"]
    return "\n".join(head + rows)
