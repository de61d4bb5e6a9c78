"""Hand-made epoch features of the reference pipeline: R peaks and heart-rate features from an
ECG, log band powers from an EEG, per-night robust scaling and neighbour context.

R-peak detection is deliberately simple (and documented as such): the ECG is band-passed
5-30 Hz (3rd-order Butterworth, zero phase), its polarity is chosen so the R waves point up
(the larger of the 99.9th percentile and minus the 0.1st), and peaks are the local maxima above
4 robust SDs (median absolute deviation / 0.6745), at least 0.33 s apart (up to 180 bpm),
kept if the +-80 ms around them correlate above 0.8 with the night's median QRS (noise bursts
do not), and refined to sub-sample times by a parabola through the peak and its two neighbours.
RR intervals are then cleaned as HRV pipelines do: kept only inside 0.3-2.0 s and within
+-30 % of the median of the 11 intervals around them (this drops false detections in noise,
missed beats, and most ectopic beats with their compensatory pauses).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal

# EEG bands, Hz: slow delta, delta, theta, alpha, sigma (spindles), beta, low gamma.
BANDS_HZ = ((0.5, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 12.0), (12.0, 16.0), (16.0, 30.0), (30.0, 45.0))
HR_FEATURES = ("hr_mean_bpm", "hr_sd_bpm", "rmssd_ms", "rr_median_ms", "rr_range_ms")
RR_RANGE_S = (0.3, 2.0)  # RR intervals outside (200 bpm, 30 bpm) are detection errors
RR_LOCAL_TOLERANCE = 0.3  # and so are those more than 30 % off the local median
RR_LOCAL_SPAN = 11
WINDOW_S = 30.0  # features of each epoch come from the 30 s centred on it (20 s epochs too)
MIN_BEATS = 3
QRS_MIN_CORRELATION = 0.8
MIN_GOOD_SHARE = 0.7  # an epoch whose intervals are mostly rejected counts as missing


def r_peaks(ecg: np.ndarray, sfreq: float) -> np.ndarray:
    """R-peak times (s) of an ECG lead of either polarity.

    Parameters
    ----------
    ecg : (n_samples,) float
        One ECG lead, any unit.
    sfreq : float
        Sampling rate, Hz (>= 64, so the 30 Hz band edge is below Nyquist).

    Returns
    -------
    (n_peaks,) float, sorted.
    """
    sos = signal.butter(3, (5.0, min(30.0, 0.45 * sfreq)), btype="band", fs=sfreq, output="sos")
    y = signal.sosfiltfilt(sos, np.asarray(ecg, dtype=np.float64))
    if -np.percentile(y, 0.1) > np.percentile(y, 99.9):
        y = -y
    height = 4.0 * np.median(np.abs(y)) / 0.6745
    idx, _ = signal.find_peaks(y, height=height, distance=max(1, int(0.33 * sfreq)))
    half = max(2, int(round(0.08 * sfreq)))
    idx = idx[(idx >= half) & (idx < len(y) - half)]
    if len(idx) > 10:  # keep peaks shaped like the night's typical QRS (noise bursts are not)
        shapes = y[idx[:, None] + np.arange(-half, half + 1)]
        shapes = shapes - shapes.mean(axis=1, keepdims=True)
        typical = np.median(shapes, axis=0)
        corr = shapes @ typical / (np.linalg.norm(shapes, axis=1) * np.linalg.norm(typical) + 1e-12)
        idx = idx[corr > QRS_MIN_CORRELATION]
    left, mid, right = y[idx - 1], y[idx], y[idx + 1]
    curve = left - 2.0 * mid + right
    shift = np.where(curve < 0, 0.5 * (left - right) / np.where(curve < 0, curve, -1.0), 0.0)
    return (idx + np.clip(shift, -0.5, 0.5)) / sfreq


def hr_features(peaks: np.ndarray, onsets: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Per epoch, from the RR intervals ending in the 30 s centred on it: mean and SD of heart
    rate (bpm), RMSSD (ms), median and range of RR (ms).

    Parameters
    ----------
    peaks : (n_peaks,) float
        R-peak times, s.
    onsets, durations : (n_epochs,) float
        Epochs, s on the same clock as ``peaks``.

    Returns
    -------
    (n_epochs, 5) float
        Columns :data:`HR_FEATURES`; NaN where fewer than 3 plausible intervals were found
        (lost signal) or fewer than 70 % of them were plausible (unreadable signal).
    """
    rr = np.diff(peaks)
    ends = peaks[1:]
    good = (rr > RR_RANGE_S[0]) & (rr < RR_RANGE_S[1])
    if len(rr):
        local = ndimage.median_filter(rr, size=RR_LOCAL_SPAN, mode="nearest")
        good &= np.abs(rr - local) <= RR_LOCAL_TOLERANCE * local
    centres = onsets + durations / 2.0
    lo = np.searchsorted(ends, centres - WINDOW_S / 2.0)
    hi = np.searchsorted(ends, centres + WINDOW_S / 2.0)
    out = np.full((len(onsets), len(HR_FEATURES)), np.nan)
    for k in range(len(onsets)):
        seg = rr[lo[k]:hi[k]]
        seg_good = good[lo[k]:hi[k]]
        sel = seg[seg_good]
        if len(sel) < max(MIN_BEATS, MIN_GOOD_SHARE * len(seg)):  # lost or unreadable signal
            continue
        hr = 60.0 / sel
        # Successive differences only between intervals that are both plausible.
        pairs = seg_good[1:] & seg_good[:-1]
        diffs = np.diff(seg)[pairs]
        rmssd = 1e3 * np.sqrt(np.mean(diffs ** 2)) if len(diffs) else np.nan
        out[k] = (hr.mean(), hr.std(), rmssd, 1e3 * np.median(sel), 1e3 * (sel.max() - sel.min()))
    return out


def band_powers(eeg: np.ndarray, sfreq: float, onsets: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Log power per band (:data:`BANDS_HZ`, Welch, 4 s segments) of the 30 s centred on each
    epoch: (n_epochs, n_bands). Bands above 0.45 * ``sfreq`` are left out."""
    n = int(round(WINDOW_S * sfreq))
    starts = np.round((onsets + durations / 2.0 - WINDOW_S / 2.0) * sfreq).astype(int)
    starts = np.clip(starts, 0, max(len(eeg) - n, 0))
    windows = np.stack([np.asarray(eeg[s:s + n], dtype=np.float64) for s in starts])
    f, p = signal.welch(windows, fs=sfreq, nperseg=int(4 * sfreq), axis=-1)
    bands = [(lo, hi) for lo, hi in BANDS_HZ if hi <= 0.45 * sfreq + 1e-9]
    return np.log(np.stack([p[:, (f >= lo) & (f < hi)].mean(axis=1) for lo, hi in bands], axis=1) + 1e-12)


def robust_scale(x: np.ndarray) -> np.ndarray:
    """Per column: (x - median) / IQR over the night, NaN (missing epochs) set to 0 after.

    Parameters
    ----------
    x : (n_epochs, n_features) float, NaN where missing.
    """
    median = np.nanmedian(x, axis=0)
    q1, q3 = np.nanpercentile(x, (25, 75), axis=0)
    iqr = np.where(q3 - q1 > 0, q3 - q1, 1.0)
    out = (x - median) / iqr
    return np.nan_to_num(out, nan=0.0)


def with_context(x: np.ndarray, half_width: int) -> np.ndarray:
    """Each epoch's features followed by those of its ``half_width`` neighbours on each side
    (edges repeat the first and last epoch): (n_epochs, n_features * (2 * half_width + 1))."""
    if half_width == 0:
        return x
    padded = np.concatenate([np.repeat(x[:1], half_width, 0), x, np.repeat(x[-1:], half_width, 0)])
    return np.concatenate([padded[k:k + len(x)] for k in range(2 * half_width + 1)], axis=1)
