"""ECG: P-QRS-T beats placed by the heart-rate process (:mod:`.heart`), with ectopic beats and
stretches of noisy or lost signal.

Beats fall where the integrated beat frequency crosses whole numbers (plus a few ms of jitter).
A share of beats is premature (ectopic: a wide, tall complex without P wave, followed by a
compensatory pause). Normal beats are rendered by convolving an impulse train with the subject's
beat template; baseline wander follows breathing. Amplitudes in mV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from .heart import GRID_HZ, EcgSubject, heart_rate  # noqa: F401 - re-exported for night.py
from .noise import Timeline, band, shaped_noise

ECTOPIC_COUPLING = (0.55, 0.8)  # premature beat at this fraction of the RR interval it cuts


@dataclass(frozen=True)
class Beats:
    """R-peak times of one night and which of them are ectopic."""

    times: np.ndarray  # (n_beats,) s, sorted
    ectopic: np.ndarray  # (n_beats,) bool


def beat_times(rng: np.random.Generator, beat_hz: np.ndarray) -> np.ndarray:
    """R-peak times (s): where the integrated beat frequency crosses whole numbers, plus jitter."""
    t = np.arange(len(beat_hz)) / GRID_HZ
    phase = np.cumsum(beat_hz) / GRID_HZ
    k = np.arange(1, int(phase[-1]))
    times = np.interp(k, phase, t) + rng.normal(0.0, 0.006, len(k))
    return np.sort(times)


def add_ectopic_beats(rng: np.random.Generator, times: np.ndarray, subject: EcgSubject) -> Beats:
    """Make about ``subject.ectopic_per_h`` beats per hour premature (in place of a normal beat).

    The premature beat comes at 55-80 % of the interval it cuts and the next normal beat stays
    where it was (a full compensatory pause), as with ventricular premature beats.
    """
    hours = (times[-1] - times[0]) / 3600.0 if len(times) > 1 else 0.0
    n = min(rng.poisson(subject.ectopic_per_h * hours), max((len(times) - 2) // 2, 0))
    ectopic = np.zeros(len(times), dtype=bool)
    if n == 0:
        return Beats(times, ectopic)
    # Odd indices only: never the first or last beat, never two ectopic beats in a row.
    picked = np.sort(2 * rng.choice((len(times) - 2) // 2, size=n, replace=False) + 1)
    out = times.copy()
    out[picked] = times[picked - 1] + rng.uniform(*ECTOPIC_COUPLING, len(picked)) * (times[picked] - times[picked - 1])
    ectopic[picked] = True
    return Beats(out, ectopic)


def beat_template(subject: EcgSubject, sfreq: float, *, lead_gain: float,
                  ectopic: bool = False) -> tuple[np.ndarray, int]:
    """One P-QRS-T complex as a sum of Gaussian waves, and the index of its R peak.

    An ectopic complex has no P wave, a QRS 2.5x as wide and 1.3x as tall, and an inverted T.
    """
    t = np.arange(-0.35, 0.6, 1.0 / sfreq)
    w = subject.qrs_width * (2.5 if ectopic else 1.0)
    waves = [(-0.19, 0.0 if ectopic else 0.12, 0.025), (-0.03, -0.12, 0.010 * w),
             (0.0, 1.3 if ectopic else 1.0, 0.011 * w), (0.035, -0.25, 0.011 * w),
             (0.28, -0.35 if ectopic else 0.28, 0.05)]  # P, Q, R, S, T: (s, rel. mV, s)
    shape = sum(a * np.exp(-0.5 * ((t - mu) / sd) ** 2) for mu, a, sd in waves)
    return (lead_gain * subject.amplitude_mv * shape).astype(np.float32), int(np.argmin(np.abs(t)))


def signal_troubles(rng: np.random.Generator, duration_s: float,
                    subject: EcgSubject) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Spans (start_s, stop_s) of heavy electrode-motion noise (5-60 s) and of lost signal
    (lead off, 10 s - 3 min), at the subject's rates per hour."""
    def spans(per_h: float, lo: float, hi: float) -> list[tuple[float, float]]:
        n = rng.poisson(per_h * duration_s / 3600.0)
        starts = rng.uniform(0.0, max(duration_s - hi, 1.0), n)
        return sorted((float(s), float(s + rng.uniform(lo, hi))) for s in starts)
    return spans(subject.noisy_per_h, 5.0, 60.0), spans(subject.lost_per_h, 10.0, 180.0)


def _apply_troubles(rng: np.random.Generator, x: np.ndarray, fs: float, *,
                    noisy: list[tuple[float, float]], lost: list[tuple[float, float]]) -> None:
    """Noisy spans get 0.05-0.25 mV (RMS) of 0.5-40 Hz motion noise; lost spans go flat (in place)."""
    for start, stop in noisy:
        i, j = int(start * fs), min(int(stop * fs), len(x))
        if j - i > 16:
            level = rng.uniform(0.05, 0.25)
            x[i:j] += level * shaped_noise(rng, j - i, fs, band(0.5, min(40.0, 0.45 * fs), edge=0.5))
    for start, stop in lost:
        i, j = int(start * fs), min(int(stop * fs), len(x))
        if j - i > 16:
            x[i:j] = 0.003 * shaped_noise(rng, j - i, fs, band(1.0, 0.45 * fs, edge=1.0))


def render(rng: np.random.Generator, timeline: Timeline, subject: EcgSubject, beats: Beats,
           breath_phase: np.ndarray, *, lead_gain: float = 1.0, noise_gain: float = 1.0,
           troubles: tuple[list, list] = ([], [])) -> np.ndarray:
    """One ECG lead (mV, upright R waves): beats, breathing-driven wander, noise and troubles.

    Parameters
    ----------
    beats : Beats
        R-peak times (s) and which beats are ectopic.
    breath_phase : (n_grid,) float
        Breathing phase on the 4 Hz grid, cycles.
    lead_gain, noise_gain : float
        Factors for a weaker or noisier lead.
    troubles : (noisy spans, lost spans)
        From :func:`signal_troubles`, seconds.

    Returns
    -------
    (n_samples,) float32
    """
    n, fs = timeline.n_samples, timeline.sfreq
    t = np.arange(n) / fs
    breath = np.sin(2 * np.pi * np.interp(t, np.arange(len(breath_phase)) / GRID_HZ, breath_phase))
    x = np.zeros(n, dtype=np.float32)
    for is_ectopic in (False, True):
        times = beats.times[beats.ectopic == is_ectopic]
        if len(times) == 0:
            continue
        template, r_index = beat_template(subject, fs, lead_gain=lead_gain, ectopic=is_ectopic)
        idx = np.round(times * fs).astype(int) - r_index
        impulses = np.zeros(n + len(template), dtype=np.float32)
        keep = (idx >= 0) & (idx < n)
        # The R amplitude swings a little with breathing (the heart's axis moves with the chest).
        np.add.at(impulses, idx[keep], 1.0 + 0.08 * np.interp(times[keep], t, breath))
        x += signal.oaconvolve(impulses, template)[:n].astype(np.float32)
    x += (0.08 * noise_gain * breath).astype(np.float32)
    x += 0.06 * noise_gain * shaped_noise(rng, n, fs, band(0.02, 0.4, edge=0.05))
    x += subject.noise_mv * noise_gain * shaped_noise(rng, n, fs, band(0.5, 0.45 * fs, edge=1.0))
    muscle = timeline.envelope((0.03, 0.01, 0.005, 0.004, 0.004))
    x += noise_gain * muscle * shaped_noise(rng, n, fs, band(20.0, 0.45 * fs, edge=4.0))
    _apply_troubles(rng, x, fs, noisy=troubles[0], lost=troubles[1])
    return x
