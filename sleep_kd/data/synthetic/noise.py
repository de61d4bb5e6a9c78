"""Building blocks shared by the signal generators: shaped noise, envelopes and event times.

Everything is vectorised over the whole night: noise is shaped once in the frequency domain,
per-cell levels become per-sample envelopes by linear interpolation between cell centres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
import numpy as np
from scipy import fft as sfft

from .stages import CELL_S



@dataclass(frozen=True)
class Timeline:
    """Where the 10 s cells sit in a recording.

    Attributes
    ----------
    state : (n_cells,) int
        State per cell, covering the whole recording (wake padding before and after the night).
    slow_wave : (n_cells,) float
        Slow-wave fraction per cell.
    t0 : float
        Start of cell 0, in seconds from the recording start (<= 0).
    n_samples : int
        Samples per channel.
    sfreq : float
        Sampling rate, Hz.
    """

    state: np.ndarray
    slow_wave: np.ndarray
    t0: float
    n_samples: int
    sfreq: float

    def envelope(self, per_state, *, extra: np.ndarray | None = None) -> np.ndarray:
        """Per-sample level from a per-state table (optionally times a per-cell factor).

        Returns
        -------
        (n_samples,) float32
            Linear interpolation between cell centres, so levels glide over ~10 s.
        """
        values = np.asarray(per_state, dtype=np.float64)[self.state]
        if extra is not None:
            values = values * extra
        centres = self.t0 + (np.arange(len(values)) + 0.5) * CELL_S
        t = np.arange(self.n_samples, dtype=np.float64) / self.sfreq
        return np.interp(t, centres, values).astype(np.float32)

    def cell_of(self, t: np.ndarray) -> np.ndarray:
        """Cell index of times ``t`` (seconds from the recording start), clipped to the grid."""
        return np.clip(((t - self.t0) // CELL_S).astype(int), 0, len(self.state) - 1)


@dataclass(frozen=True)
class Gain:
    """An amplitude spectrum ``fn(f)`` that is zero outside ``[lo, hi]`` Hz."""

    fn: Callable[[np.ndarray], np.ndarray]
    lo: float
    hi: float

    def __call__(self, f: np.ndarray) -> np.ndarray:
        return self.fn(f)


def shaped_noise(rng: np.random.Generator, n: int, sfreq: float, gain: Gain) -> np.ndarray:
    """Gaussian noise with amplitude spectrum ``gain(f)``, scaled to unit RMS.

    The spectrum of white Gaussian noise is itself Gaussian, so it is drawn directly, and only
    inside the gain's support: one inverse FFT per call.

    Returns
    -------
    (n,) float32
    """
    n_fft = sfft.next_fast_len(n, real=True)
    df = sfreq / n_fft
    i0 = max(int(np.floor(gain.lo / df)), 1)
    i1 = min(int(np.ceil(gain.hi / df)) + 1, n_fft // 2)
    f = (np.arange(i0, i1, dtype=np.float32) * np.float32(df))
    g = gain(f).astype(np.float32)
    draws = rng.standard_normal((2, i1 - i0), dtype=np.float32)
    spectrum = np.zeros(n_fft // 2 + 1, dtype=np.complex64)
    spectrum[i0:i1].real = draws[0] * g
    spectrum[i0:i1].imag = draws[1] * g
    x = sfft.irfft(spectrum, n_fft)[:n]
    return (x / max(float(np.std(x)), 1e-20)).astype(np.float32, copy=False)


def band(lo: float, hi: float, *, edge: float = 0.5) -> Gain:
    """Band-pass gain with raised-cosine edges ``edge`` Hz wide."""
    def fn(f: np.ndarray) -> np.ndarray:
        up = np.clip((f - lo + edge / 2) / edge, 0.0, 1.0)
        down = np.clip((hi + edge / 2 - f) / edge, 0.0, 1.0)
        return np.sin(up * np.pi / 2) ** 2 * np.sin(down * np.pi / 2) ** 2
    return Gain(fn, lo - edge / 2, hi + edge / 2)


def peak(centre: float, width: float) -> Gain:
    """Gaussian spectral peak at ``centre`` Hz with standard deviation ``width`` Hz."""
    return Gain(lambda f: np.exp(-0.5 * ((f - centre) / width) ** 2),
                max(centre - 4 * width, 0.0), centre + 4 * width)


def power_law(exponent: float, lo: float, hi: float) -> Gain:
    """1/f^exponent power spectrum between ``lo`` and ``hi`` Hz (amplitude f^-exponent/2)."""
    edges = band(lo, hi, edge=min(lo, 1.0))

    def fn(f: np.ndarray) -> np.ndarray:
        return np.maximum(f, lo) ** (-exponent / 2.0) * edges(f)
    return Gain(fn, edges.lo, edges.hi)


def event_times(rng: np.random.Generator, timeline: Timeline, rate_per_min) -> np.ndarray:
    """Times (s) of a Poisson process whose rate depends on each cell's state.

    Parameters
    ----------
    rate_per_min : sequence of 5 floats
        Events per minute in each state.

    Returns
    -------
    (n_events,) float, sorted, inside the recording.
    """
    rates = np.asarray(rate_per_min, dtype=np.float64)[timeline.state] * CELL_S / 60.0
    counts = rng.poisson(rates)
    cells = np.repeat(np.arange(len(rates)), counts)
    t = timeline.t0 + (cells + rng.uniform(0.0, 1.0, len(cells))) * CELL_S
    duration = timeline.n_samples / timeline.sfreq
    return np.sort(t[(t >= 0.0) & (t < duration - 3.0)])


def add_snippets(x: np.ndarray, times: np.ndarray, snippets: list[np.ndarray], sfreq: float) -> None:
    """Add each waveform ``snippets[k]`` starting at ``times[k]`` seconds (in place, clipped)."""
    for t, snip in zip(times, snippets):
        i = int(round(t * sfreq))
        stop = min(i + len(snip), len(x))
        if i < stop:
            x[i:stop] += snip[: stop - i]
