"""The one resampler of the project (ingest and on-the-fly windows): polyphase resampling
written as one matrix product, equal to scipy's ``resample_poly`` and several times faster.

Resampling by ``up / down`` with a linear-phase low-pass FIR ``h`` (length ``2c + 1``) gives
output sample ``m`` (at input time ``m * down / up``) as ``sum_i x[i] * h[c + m*down - i*up]``.
Writing ``m = q*up + r`` and ``i = q*down + j`` makes the filter index ``c + r*down - j*up``
independent of ``q``: every block of ``up`` outputs is the same (J, up) matrix applied to the
``J`` inputs starting at ``q*down``. So the whole signal is a strided (Q, J) view of the input
times that matrix, which BLAS runs several times faster than ``upfirdn``'s per-sample loop
(docs/speed.md). The filter is ``resample_poly``'s default (Kaiser, beta 5, 10 zero crossings
each side of the cutoff ``1 / max(up, down)``), so the output equals ``resample_poly``'s to
float32 rounding (tests/ingest/test_resampling.py).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import firwin

# Output blocks per matrix product: bounds the strided copy to ~BLOCK_ROWS * J * 4 bytes.
BLOCK_ROWS = 8192
ZERO_CROSSINGS = 10
KAISER_BETA = 5.0


def rate_ratio(sfreq_in: float, sfreq_out: float) -> tuple[int, int]:
    """``(up, down)`` in lowest terms with ``sfreq_out / sfreq_in = up / down``."""
    ratio = Fraction(sfreq_out).limit_denominator(10_000) / Fraction(sfreq_in).limit_denominator(10_000)
    ratio = ratio.limit_denominator(1000)
    return ratio.numerator, ratio.denominator


class PolyphaseResampler:
    """Resample 1-D signals by ``up / down``: (n,) -> (ceil(n * up / down),) float32.

    Samples outside the signal count as zeros, as in ``resample_poly(..., padtype="constant")``.
    """

    def __init__(self, up: int, down: int) -> None:
        self.up, self.down = up, down
        cutoff = 1.0 / max(up, down)
        half = ZERO_CROSSINGS * max(up, down)
        h = firwin(2 * half + 1, cutoff, window=("kaiser", KAISER_BETA)) * up
        # Input offsets j (relative to q*down) that any of the up phases touches.
        self.j_first = -(half // up)
        j_last = (half + (up - 1) * down) // up
        j = np.arange(self.j_first, j_last + 1)
        index = half + np.arange(up)[:, None] * down - j[None, :] * up  # (up, J) filter taps
        inside = (index >= 0) & (index < h.size)
        self.matrix = np.where(inside, h[np.clip(index, 0, h.size - 1)], 0.0).T.astype(np.float32)  # (J, up)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n_in = x.size
        n_out = -(-n_in * self.up // self.down)
        blocks = -(-n_out // self.up)
        width = self.matrix.shape[0]
        left = -self.j_first
        right = max(0, (blocks - 1) * self.down + width - left - n_in)
        padded = np.zeros(left + n_in + right, dtype=np.float32)
        padded[left:left + n_in] = x  # one float32 copy, zeros either side
        frames = sliding_window_view(padded, width)[::self.down][:blocks]  # (Q, J) view, no copy
        out = np.empty((blocks, self.up), dtype=np.float32)
        for start in range(0, blocks, BLOCK_ROWS):
            np.matmul(frames[start:start + BLOCK_ROWS], self.matrix, out=out[start:start + BLOCK_ROWS])
        return out.reshape(-1)[:n_out]


    @property
    def reach(self) -> int:
        """Input samples either side of an output sample that its filter touches.

        Reading this many samples beyond a window keeps the window free of edge effects.
        """
        return -(-ZERO_CROSSINGS * max(self.up, self.down) // self.up)


@lru_cache(maxsize=16)
def resampler(up: int, down: int) -> PolyphaseResampler:
    """The (cached) resampler by ``up / down``: build once, apply to many signals or windows."""
    return PolyphaseResampler(up, down)


def resample(signal: np.ndarray, *, sfreq_in: float, sfreq_out: float) -> np.ndarray:
    """``signal`` (n,) at ``sfreq_in`` Hz as float32 at ``sfreq_out`` Hz (low-pass filtered)."""
    up, down = rate_ratio(sfreq_in, sfreq_out)
    if up == down:
        return np.asarray(signal, dtype=np.float32)
    return resampler(up, down)(signal)
