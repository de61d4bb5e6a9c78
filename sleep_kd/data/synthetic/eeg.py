"""Central EEG with stage-specific activity, plus the EOG and chin-EMG distractor channels.

A 1/f background carries narrow-band rhythms and transient events whose levels follow the
state of each 10 s cell: alpha in relaxed wake, theta and vertex waves in N1, spindles and
K-complexes in N2, high-amplitude slow waves in N3 (scaled by the slow-wave fraction), low
amplitude mixed theta with sawtooth waves in REM. Each subject draws its own amplitude,
alpha and spindle frequencies and background slope. Amplitudes in uV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .noise import Timeline, add_snippets, band, event_times, peak, power_law, shaped_noise
from .stages import N3

# RMS level (uV) of each component per state, in the order W, N1, N2, N3, R.
BACKGROUND = (9.0, 11.0, 13.0, 13.0, 8.0)
ALPHA = (1.0, 0.25, 0.04, 0.04, 0.12)  # times the subject's alpha level
THETA = (3.0, 10.0, 5.0, 4.0, 8.0)
BETA = (5.0, 2.5, 1.5, 1.0, 2.5)
DELTA = (3.0, 5.0, 9.0, 18.0, 4.0)  # N3 also gets the slow-wave term below
MUSCLE = (4.0, 2.0, 1.0, 1.0, 0.5)
# Transient events per minute, per state.
SPINDLES = (0.0, 0.3, 5.0, 1.5, 0.0)
K_COMPLEXES = (0.0, 0.1, 1.5, 0.5, 0.0)
VERTEX = (0.0, 3.0, 0.5, 0.0, 0.0)
SAWTOOTH = (0.0, 0.0, 0.0, 0.0, 1.5)


@dataclass(frozen=True)
class EegSubject:
    """Between-subject differences in the EEG."""

    scale: float  # overall amplitude factor
    alpha_hz: float
    alpha_uv: float
    spindle_hz: float
    slope: float  # background power-law exponent
    slow_wave_uv: float  # RMS of slow waves at a slow-wave fraction of 1

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "EegSubject":
        return cls(scale=float(rng.uniform(0.75, 1.3)), alpha_hz=float(rng.uniform(8.8, 11.2)),
                   alpha_uv=float(rng.uniform(10.0, 22.0)), spindle_hz=float(rng.uniform(12.0, 14.5)),
                   slope=float(rng.uniform(0.9, 1.4)), slow_wave_uv=float(rng.uniform(40.0, 60.0)))


def _spindle(rng: np.random.Generator, sfreq: float, hz: float) -> np.ndarray:
    duration = rng.uniform(0.5, 2.0)
    t = np.arange(int(duration * sfreq)) / sfreq
    f = hz + rng.normal(0.0, 0.4)
    return rng.uniform(15.0, 40.0) * np.hanning(len(t)) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))


def _k_complex(rng: np.random.Generator, sfreq: float) -> np.ndarray:
    # A sharp negative wave followed by a slower positive one, ~1 s in all.
    t = np.arange(int(1.4 * sfreq)) / sfreq
    a = rng.uniform(80.0, 150.0)
    return a * (-np.exp(-0.5 * ((t - 0.3) / 0.08) ** 2) + 0.6 * np.exp(-0.5 * ((t - 0.75) / 0.18) ** 2))


def _vertex(rng: np.random.Generator, sfreq: float) -> np.ndarray:
    t = np.arange(int(0.6 * sfreq)) / sfreq
    a = rng.uniform(40.0, 80.0)
    return a * (-np.exp(-0.5 * ((t - 0.2) / 0.045) ** 2) + 0.3 * np.exp(-0.5 * ((t - 0.35) / 0.06) ** 2))


def _sawtooth(rng: np.random.Generator, sfreq: float) -> np.ndarray:
    # A train of 3-6 waves at 2-3 Hz, each a slow rise and a quick fall.
    hz = rng.uniform(2.0, 3.0)
    t = np.arange(int(rng.integers(3, 7) / hz * sfreq)) / sfreq
    phase = (t * hz) % 1.0
    wave = np.where(phase < 0.8, phase / 0.8, (1.0 - phase) / 0.2) - 0.5
    return rng.uniform(30.0, 50.0) * wave * np.hanning(len(t)) ** 0.3


def _events(rng: np.random.Generator, timeline: Timeline, x: np.ndarray, subject: EegSubject) -> None:
    """Add spindles, K-complexes, vertex and sawtooth waves (in place)."""
    fs = timeline.sfreq
    makers = [(SPINDLES, lambda: _spindle(rng, fs, subject.spindle_hz)),
              (K_COMPLEXES, lambda: _k_complex(rng, fs)),
              (VERTEX, lambda: _vertex(rng, fs)),
              (SAWTOOTH, lambda: _sawtooth(rng, fs))]
    for rate, make in makers:
        times = event_times(rng, timeline, rate)
        add_snippets(x, times, [subject.scale * make() for _ in times], fs)


def cortex(rng: np.random.Generator, timeline: Timeline, subject: EegSubject) -> np.ndarray:
    """Artefact-free central EEG (C3 or C4 against a neutral reference).

    Returns
    -------
    (n_samples,) float32, uV
    """
    n, fs = timeline.n_samples, timeline.sfreq
    hi = min(70.0, 0.45 * fs)
    # Relaxed (eyes-closed) wake comes and goes: a per-cell share of alpha.
    eyes_closed = rng.uniform(0.15, 1.0, len(timeline.state))
    slow_delta = np.where(timeline.state == N3, subject.slow_wave_uv * timeline.slow_wave, 0.0)
    parts = [
        (power_law(subject.slope, 0.3, hi), timeline.envelope(BACKGROUND)),
        (peak(subject.alpha_hz, 0.6), timeline.envelope(ALPHA, extra=eyes_closed) * subject.alpha_uv),
        (band(4.0, 7.5), timeline.envelope(THETA)),
        (band(16.0, 28.0, edge=2.0), timeline.envelope(BETA)),
        (band(0.5, 2.0, edge=0.4), timeline.envelope(np.ones(5), extra=np.asarray(DELTA)[timeline.state]
                                                      + slow_delta)),
        (band(30.0, hi, edge=4.0), timeline.envelope(MUSCLE)),
    ]
    x = np.zeros(n, dtype=np.float32)
    for gain, level in parts:
        x += shaped_noise(rng, n, fs, gain) * level
    x *= subject.scale
    _events(rng, timeline, x, subject)
    return x


def reference_noise(rng: np.random.Generator, timeline: Timeline, ecg: np.ndarray) -> np.ndarray:
    """What a common linked-ear reference adds: drift, mains, broadband noise and cardiac field.

    Returns
    -------
    (n_samples,) float32, uV
    """
    n, fs = timeline.n_samples, timeline.sfreq
    t = np.arange(n, dtype=np.float32) / np.float32(fs)
    x = 12.0 * shaped_noise(rng, n, fs, power_law(2.0, 0.05, min(100.0, 0.45 * fs)))
    x += 6.0 * shaped_noise(rng, n, fs, band(1.0, 0.45 * fs, edge=1.0))
    if fs > 130.0:
        x += np.float32(rng.uniform(4.0, 10.0)) * np.sin(2 * np.pi * 60.0 * t)
    return (x + np.float32(rng.uniform(10.0, 25.0)) * ecg).astype(np.float32)


def eog(rng: np.random.Generator, timeline: Timeline) -> np.ndarray:
    """Horizontal EOG: blinks and saccades in wake, slow rolling in N1, rapid movements in REM (uV)."""
    n, fs = timeline.n_samples, timeline.sfreq
    slow = shaped_noise(rng, n, fs, band(0.2, 1.0, edge=0.2)) * timeline.envelope((20, 60, 8, 6, 15))
    fast = shaped_noise(rng, n, fs, band(1.0, 5.0)) * timeline.envelope((30, 8, 4, 4, 55))
    return slow + fast


def chin_emg(rng: np.random.Generator, timeline: Timeline) -> np.ndarray:
    """Chin EMG: tone highest in wake, lower in NREM, atonia in REM (uV)."""
    n, fs = timeline.n_samples, timeline.sfreq
    return shaped_noise(rng, n, fs, band(10.0, 0.45 * fs, edge=4.0)) * timeline.envelope((20, 10, 7, 6, 1.5))
