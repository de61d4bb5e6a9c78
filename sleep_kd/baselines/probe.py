"""A quick calibration probe of simulated nights in memory: the reference pipeline
(:mod:`sleep_kd.baselines.reference`) without writing or ingesting files.

Not a model of the project, only a check that simulated nights carry the intended physiology:
log band powers of the EEG derivation and heart-rate features of the ECG, robust-scaled per
night, each fed to a logistic regression with subject-wise folds (4 classes: W, light N1+N2,
deep N3+N4, REM). The EEG should win clearly; the ECG should beat chance, faintly.
"""

from __future__ import annotations

import numpy as np

from sleep_kd.baselines import features as F
from sleep_kd.baselines.reference import NightFeatures, cross_validated_kappa
from sleep_kd.data.stages import Stage, to_classes
from sleep_kd.data.synthetic.night import Night
from sleep_kd.data.synthetic.stages import LABELS

BANDS_HZ = F.BANDS_HZ
# Generator label codes (stages.LABEL_*, "?" last) as stored Stage codes.
_STAGE_CODES = np.array([int(Stage.W), int(Stage.N1), int(Stage.N2), int(Stage.N3), int(Stage.N4),
                         int(Stage.R), int(Stage.UNSCORED)])
assert len(_STAGE_CODES) == len(LABELS)


def channel(night: Night, label: str) -> np.ndarray:
    """Samples of the channel named ``label``."""
    for c in night.channels:
        if c.label == label:
            return c.data.astype(np.float64)
    raise KeyError(label)


def eeg_derivation(night: Night) -> np.ndarray:
    """The EEG the seed reads: active minus ear for the CLE montages, C3-LER as it is (uV)."""
    names = [c.label for c in night.channels]
    if "EEG C3-LER" in names:
        return channel(night, "EEG C3-LER")
    if "EEG C3-CLE" in names:
        return channel(night, "EEG C3-CLE") - channel(night, "EEG A2-CLE")
    return channel(night, "EEG C4-CLE") - channel(night, "EEG A1-CLE")


def ecg_upright(night: Night) -> np.ndarray:
    """The ECG lead the seed reads (ECGII in SS4, else ECGI), multiplied by -1 (mV)."""
    names = [c.label for c in night.channels]
    return -channel(night, "ECG ECGII" if "ECG ECGII" in names else "ECG ECGI")


def _durations(night: Night) -> np.ndarray:
    return np.full(len(night.true), night.plan.epoch_s)


def band_powers(night: Night, sfreq: float) -> np.ndarray:
    """Log band powers of the 30 s centred on each epoch: (n_epochs, n_bands)."""
    return F.band_powers(eeg_derivation(night), sfreq, night.onsets, _durations(night))


def r_peaks(ecg, sfreq: float) -> np.ndarray:
    """R-peak times (s): the reference pipeline's detector (:func:`sleep_kd.baselines.features.r_peaks`)."""
    return F.r_peaks(ecg, sfreq)


def rr_features(night: Night, sfreq: float) -> np.ndarray:
    """Heart-rate features of each epoch (columns ``features.HR_FEATURES``): (n_epochs, 5)."""
    return F.hr_features(r_peaks(ecg_upright(night), sfreq), night.onsets, _durations(night))


def stage_codes(labels: np.ndarray) -> np.ndarray:
    """Stored :class:`~sleep_kd.data.stages.Stage` codes of generator label codes."""
    return _STAGE_CODES[np.asarray(labels, dtype=int)]


def night_features(night: Night, sfreq: float) -> NightFeatures:
    """The reference pipeline's features of a night in memory."""
    hr = rr_features(night, sfreq)
    return NightFeatures(night.plan.record_id, F.robust_scale(hr), F.robust_scale(band_powers(night, sfreq)),
                         hr[:, 0], to_classes(stage_codes(night.scored), 4),
                         to_classes(stage_codes(night.true), 4))


def probe(nights: list[Night], sfreq: float, *, context: int = 5, n_folds: int = 5) -> dict[str, float]:
    """Cohen's kappa of EEG-only and ECG-only logistic regressions, subject-wise folds:
    ``{"eeg_kappa", "ecg_kappa"}`` against the scored stages, ``"*_kappa_true"`` against the
    true ones; features with ``context`` neighbouring epochs each side."""
    feats = [night_features(n, sfreq) for n in nights]
    out = {}
    for modality in ("eeg", "ecg"):
        for labels, suffix in (("scored", ""), ("true", "_true")):
            out[f"{modality}_kappa{suffix}"] = cross_validated_kappa(
                feats, modality=modality, labels=labels, context=context, n_folds=n_folds)
    return out
