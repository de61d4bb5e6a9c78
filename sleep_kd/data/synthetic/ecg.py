"""ECG: P-QRS-T beats placed by a stage-dependent RR-interval process.

Heart rate follows the state with a lag of tens of seconds: highest in wake, lower through
N1 and N2, lowest and most regular in N3, raised and irregular in REM (phasic surges). The
RR series carries low-frequency fluctuations, respiratory sinus arrhythmia (strongest in
N3) and beat-to-beat jitter. Beats are rendered by convolving an impulse train with the
subject's beat template; baseline wander follows breathing. Amplitudes in mV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from .noise import Timeline, band, event_times, shaped_noise
from .stages import CELL_S

GRID_HZ = 4.0  # the RR process is built on a 4 Hz grid
# Per state W, N1, N2, N3, R.
HR_OFFSET = (7.0, 3.5, 0.0, -2.5, 3.0)  # bpm above the subject's N2 rate, times its reactivity
LF_VARIABILITY = (0.035, 0.025, 0.018, 0.009, 0.05)  # RMS fractional heart-rate change, 0.02-0.15 Hz
RSA_DEPTH = (0.02, 0.028, 0.032, 0.035, 0.015)  # fractional heart-rate swing with each breath
BREATH_HZ = (0.27, 0.25, 0.24, 0.23, 0.26)
BREATH_IRREGULARITY = (0.18, 0.12, 0.07, 0.03, 0.22)
SURGES = (0.8, 0.3, 0.1, 0.0, 1.3)  # short heart-rate surges per minute (arousals, phasic REM)
LAG_S = 25.0  # time constant of the heart-rate response to a change of state


@dataclass(frozen=True)
class EcgSubject:
    """Between-subject differences in the heart."""

    rest_bpm: float  # heart rate in stable N2
    reactivity: float  # how strongly heart rate follows the state
    rsa: float  # factor on the respiratory sinus arrhythmia
    amplitude_mv: float  # R-wave amplitude on lead II
    qrs_width: float  # factor on the QRS width
    noise_mv: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "EcgSubject":
        return cls(rest_bpm=float(np.clip(rng.normal(62.0, 7.0), 46.0, 84.0)),
                   reactivity=float(rng.uniform(0.6, 1.4)), rsa=float(rng.uniform(0.5, 1.5)),
                   amplitude_mv=float(rng.uniform(0.8, 1.8)), qrs_width=float(rng.uniform(0.85, 1.2)),
                   noise_mv=float(rng.uniform(0.01, 0.035)))


def _lagged(values: np.ndarray, tau_s: float) -> np.ndarray:
    """First-order lag of a per-cell series (the heart catches up with the state)."""
    a = np.exp(-CELL_S / tau_s)
    y, _ = signal.lfilter([1.0 - a], [1.0, -a], values, zi=[a * values[0]])
    return y


def _on_grid(timeline: Timeline, per_cell: np.ndarray, t: np.ndarray) -> np.ndarray:
    centres = timeline.t0 + (np.arange(len(per_cell)) + 0.5) * CELL_S
    return np.interp(t, centres, per_cell)


def heart_rate(rng: np.random.Generator, timeline: Timeline,
               subject: EcgSubject) -> tuple[np.ndarray, np.ndarray]:
    """Instantaneous beat frequency (Hz) and breathing phase (cycles) on the 4 Hz grid."""
    duration = timeline.n_samples / timeline.sfreq
    t = np.arange(0.0, duration + 5.0, 1.0 / GRID_HZ)
    state = timeline.state
    bpm = subject.rest_bpm + subject.reactivity * np.asarray(HR_OFFSET)[state]
    bpm_t = _on_grid(timeline, _lagged(bpm, LAG_S), t)
    for onset in event_times(rng, timeline, SURGES):
        rise = np.clip((t - onset) / 3.0, 0.0, None)
        bpm_t += rng.uniform(4.0, 12.0) * rise * np.exp(1.0 - rise) * (t >= onset)
    n = len(t)
    breath_hz = _on_grid(timeline, np.asarray(BREATH_HZ)[state], t)
    wobble = _on_grid(timeline, np.asarray(BREATH_IRREGULARITY)[state], t)
    breath_hz *= 1.0 + wobble * shaped_noise(rng, n, GRID_HZ, band(0.01, 0.1, edge=0.02))
    breath_phase = np.cumsum(np.clip(breath_hz, 0.08, 0.6)) / GRID_HZ
    lf = _on_grid(timeline, np.asarray(LF_VARIABILITY)[state], t)
    lf = lf * shaped_noise(rng, n, GRID_HZ, band(0.02, 0.15, edge=0.02))
    rsa = subject.rsa * _on_grid(timeline, np.asarray(RSA_DEPTH)[state], t)
    beat_hz = bpm_t / 60.0 * (1.0 + lf + rsa * np.sin(2 * np.pi * breath_phase))
    return beat_hz, breath_phase


def beat_times(rng: np.random.Generator, beat_hz: np.ndarray) -> np.ndarray:
    """R-peak times (s): where the integrated beat frequency crosses whole numbers, plus jitter."""
    t = np.arange(len(beat_hz)) / GRID_HZ
    phase = np.cumsum(beat_hz) / GRID_HZ
    k = np.arange(1, int(phase[-1]))
    times = np.interp(k, phase, t) + rng.normal(0.0, 0.006, len(k))
    return np.sort(times)


def beat_template(subject: EcgSubject, sfreq: float, *, lead_gain: float) -> tuple[np.ndarray, int]:
    """One P-QRS-T complex as a sum of Gaussian waves, and the index of its R peak."""
    t = np.arange(-0.35, 0.6, 1.0 / sfreq)
    w = subject.qrs_width
    waves = [(-0.19, 0.12, 0.025), (-0.03, -0.12, 0.010 * w), (0.0, 1.0, 0.011 * w),
             (0.035, -0.25, 0.011 * w), (0.28, 0.28, 0.05)]  # P, Q, R, S, T: (s, rel. mV, s)
    shape = sum(a * np.exp(-0.5 * ((t - mu) / sd) ** 2) for mu, a, sd in waves)
    return (lead_gain * subject.amplitude_mv * shape).astype(np.float32), int(np.argmin(np.abs(t)))


def render(rng: np.random.Generator, timeline: Timeline, subject: EcgSubject, beats: np.ndarray,
           breath_phase: np.ndarray, *, lead_gain: float = 1.0, noise_gain: float = 1.0) -> np.ndarray:
    """One ECG lead (mV, upright R waves): beats, breathing-driven wander and noise.

    Parameters
    ----------
    beats : (n_beats,) float
        R-peak times, seconds.
    breath_phase : (n_grid,) float
        Breathing phase on the 4 Hz grid, cycles.
    lead_gain, noise_gain : float
        Factors for a weaker or noisier lead.

    Returns
    -------
    (n_samples,) float32
    """
    n, fs = timeline.n_samples, timeline.sfreq
    template, r_index = beat_template(subject, fs, lead_gain=lead_gain)
    t = np.arange(n) / fs
    breath = np.sin(2 * np.pi * np.interp(t, np.arange(len(breath_phase)) / GRID_HZ, breath_phase))
    idx = np.round(beats * fs).astype(int) - r_index
    impulses = np.zeros(n + len(template), dtype=np.float32)
    keep = (idx >= 0) & (idx < n)
    # The R amplitude swings a little with breathing (the heart's axis moves with the chest).
    np.add.at(impulses, idx[keep], 1.0 + 0.08 * np.interp(beats[keep], t, breath))
    x = signal.oaconvolve(impulses, template)[:n].astype(np.float32)
    x += (0.08 * noise_gain * breath).astype(np.float32)
    x += 0.06 * noise_gain * shaped_noise(rng, n, fs, band(0.02, 0.4, edge=0.05))
    x += subject.noise_mv * noise_gain * shaped_noise(rng, n, fs, band(0.5, 0.45 * fs, edge=1.0))
    muscle = timeline.envelope((0.03, 0.01, 0.005, 0.004, 0.004))
    x += noise_gain * muscle * shaped_noise(rng, n, fs, band(20.0, 0.45 * fs, edge=4.0))
    return x
