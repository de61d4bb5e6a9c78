"""A quick calibration probe: how well simple EEG and ECG features identify the scored stage.

Not a model of the project, only a check that the cohort carries the intended physiology:
log band powers of the EEG derivation and heart-rate / RR-variability features of the ECG,
each fed to a logistic regression trained on some subjects and scored on the others
(4 classes: W, light N1+N2, deep N3+N4, REM). The EEG should win clearly; the ECG should
beat chance.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from .night import Night
from .stages import LABEL_1, LABEL_2, LABEL_3, LABEL_4, LABEL_R, LABEL_UNSCORED, LABEL_W

BANDS_HZ = ((0.5, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 12.0), (12.0, 16.0), (16.0, 30.0), (30.0, 45.0))
FOUR_CLASSES = {LABEL_W: 0, LABEL_1: 1, LABEL_2: 1, LABEL_3: 2, LABEL_4: 2, LABEL_R: 3}


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


def epochs(x: np.ndarray, night: Night, sfreq: float) -> np.ndarray:
    """Cut ``x`` into the scored epochs: (n_epochs, epoch samples)."""
    n = int(round(night.plan.epoch_s * sfreq))
    starts = np.round(night.onsets * sfreq).astype(int)
    return np.stack([x[s:s + n] for s in starts])


def band_powers(windows: np.ndarray, sfreq: float) -> np.ndarray:
    """Log power per band of each window (Welch, 4 s segments): (n_windows, n_bands)."""
    f, p = signal.welch(windows, fs=sfreq, nperseg=int(4 * sfreq), axis=-1)
    return np.log(np.stack([p[:, (f >= lo) & (f < hi)].mean(axis=1) for lo, hi in BANDS_HZ], axis=1))


def r_peaks(ecg: np.ndarray, sfreq: float) -> np.ndarray:
    """R-peak times (s) of an upright ECG: band-passed, then peaks above a robust threshold."""
    sos = signal.butter(3, (5.0, 30.0), btype="band", fs=sfreq, output="sos")
    y = signal.sosfiltfilt(sos, ecg)
    height = 4.0 * np.median(np.abs(y)) / 0.6745
    idx, _ = signal.find_peaks(y, height=height, distance=int(0.33 * sfreq))
    return idx / sfreq


def rr_features(peaks: np.ndarray, onsets: np.ndarray, epoch_s: float) -> np.ndarray:
    """Per epoch: mean heart rate (bpm), SD of RR (ms), RMSSD (ms), beats: (n_epochs, 4)."""
    rr = np.diff(peaks)
    mid = peaks[1:]
    out = np.zeros((len(onsets), 4))
    for k, onset in enumerate(onsets):
        sel = rr[(mid >= onset - 5.0) & (mid < onset + epoch_s + 5.0)]  # 30 s window around 20 s epochs
        sel = sel[(sel > 0.3) & (sel < 2.0)]
        if len(sel) < 3:
            out[k] = (60.0, 0.0, 0.0, len(sel))
            continue
        out[k] = (60.0 / sel.mean(), 1e3 * sel.std(), 1e3 * np.sqrt(np.mean(np.diff(sel) ** 2)), len(sel))
    return out


def night_features(night: Night, sfreq: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EEG features, ECG features and 4-class labels of the scored (not ``?``) epochs."""
    keep = night.scored != LABEL_UNSCORED
    eeg_x = band_powers(epochs(eeg_derivation(night), night, sfreq), sfreq)
    ecg_x = rr_features(r_peaks(ecg_upright(night), sfreq), night.onsets, night.plan.epoch_s)
    ecg_x = np.column_stack([ecg_x[:, :3], np.log1p(ecg_x[:, 1:3])])
    y = np.array([FOUR_CLASSES.get(int(s), -1) for s in night.scored])
    return eeg_x[keep], ecg_x[keep], y[keep]


def probe(nights: list[Night], sfreq: float, *, n_train: int) -> dict[str, float]:
    """Cohen's kappa of EEG-only and ECG-only logistic regressions, trained on the first
    ``n_train`` nights and scored on the rest."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, cohen_kappa_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    feats = [night_features(n, sfreq) for n in nights]
    result = {}
    for name, col in (("eeg", 0), ("ecg", 1)):
        x_tr = np.concatenate([f[col] for f in feats[:n_train]])
        y_tr = np.concatenate([f[2] for f in feats[:n_train]])
        x_te = np.concatenate([f[col] for f in feats[n_train:]])
        y_te = np.concatenate([f[2] for f in feats[n_train:]])
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x_tr, y_tr)
        pred = model.predict(x_te)
        result[f"{name}_kappa"] = float(cohen_kappa_score(y_te, pred))
        result[f"{name}_accuracy"] = float(accuracy_score(y_te, pred))
    return result
