"""A sleep-cycle model of the true hypnogram, on a 10 s cell grid.

A night is a sleep-onset latency in wake followed by ultradian cycles of about 90 minutes:
N1 -> N2 -> N3 -> N2 -> REM. Deep sleep shrinks from cycle to cycle and REM grows, so N3 sits
early in the night and long REM periods late. Brief awakenings (each followed by some N1) and
short N2 intrusions into N3 are laid over the cycles; the night ends in wake.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .stages import CELL_S, N1, N2, N3, REM, W

# Lights-off to sleep onset, minutes (healthy adults in the laboratory: about 5-20 min).
SLEEP_LATENCY_MIN = (5.0, 20.0)
# Mean length of the first cycle, minutes, REM included: REM latency from sleep onset of
# 60-90 min, as in healthy adults (Carskadon & Dement, Principles and Practice of Sleep Medicine).
FIRST_CYCLE_MIN = 80.0


@dataclass(frozen=True)
class Hypnogram:
    """The true night on the cell grid.

    Attributes
    ----------
    state : (n_cells,) int8
        Physiological state per 10 s cell (``stages.W`` … ``stages.REM``).
    slow_wave : (n_cells,) float
        Fraction of the cell covered by slow waves (0.5–2 Hz, > 75 uV), in [0, 1].
    cycle : (n_cells,) int8
        Index of the sleep cycle the cell belongs to (0 during the sleep-onset latency).
    """

    state: np.ndarray
    slow_wave: np.ndarray
    cycle: np.ndarray


def _minutes(value: float) -> int:
    """Cells in ``value`` minutes (at least one)."""
    return max(1, int(round(value * 60.0 / CELL_S)))


def _cycle_bouts(rng: np.random.Generator, c: int) -> list[tuple[int, int]]:
    """(state, n_cells) bouts of cycle ``c``: deep sleep shrinks and REM grows with c."""
    if c == 0:  # the first NREM period is the shortest: REM comes 60-100 min after lights-off
        length = float(np.clip(rng.normal(FIRST_CYCLE_MIN, 7.0), 62.0, 92.0))
    else:
        length = float(np.clip(rng.normal(92.0, 9.0), 72.0, 115.0))
    n1 = rng.uniform(1.5, 4.0) + (3.0 if c == 0 else 0.0)
    n3 = 48.0 * 0.42 ** c * rng.uniform(0.7, 1.3)
    rem = min(8.0 + 8.0 * c, 40.0) * rng.uniform(0.75, 1.25)
    n2 = max(length - n1 - n3 - rem, 10.0)
    before = n2 * rng.uniform(0.3, 0.5)  # N2 leading into deep sleep, the rest after it
    bouts = [(N1, n1), (N2, before), (N3, n3), (N2, n2 - before), (REM, rem)]
    return [(s, _minutes(m)) for s, m in bouts if m >= 0.5]


def _slow_wave_ramp(n: int, level: float) -> np.ndarray:
    """Slow-wave fraction across one N3 bout: it builds over ~3 min, then eases off at the end."""
    t = np.arange(n) * CELL_S / 60.0
    rise = np.clip(0.35 + 0.65 * t / 3.0, 0.0, 1.0)
    fall = np.clip(0.5 + 0.5 * (t[::-1] + CELL_S / 60.0), 0.0, 1.0)
    return level * rise * fall


def _lay_cycles(rng: np.random.Generator, n_cells: int) -> Hypnogram:
    """Sleep-onset latency then whole cycles, cut to ``n_cells``."""
    state = [np.full(_minutes(rng.uniform(*SLEEP_LATENCY_MIN)), W)]
    slow = [np.zeros(len(state[0]))]
    cycle = [np.zeros(len(state[0]), dtype=int)]
    c = 0
    while sum(len(s) for s in state) < n_cells:
        level = float(np.clip(0.66 - 0.1 * c + rng.normal(0.0, 0.08), 0.3, 1.0))
        for s, n in _cycle_bouts(rng, c):
            state.append(np.full(n, s))
            if s == N3:  # slow-wave density wanders from cell to cell within the bout
                sw = _slow_wave_ramp(n, level) + rng.normal(0.0, 0.08, n)
                slow.append(np.clip(sw, 0.2, 1.0))
            else:
                slow.append(np.full(n, 0.06 if s == N2 else 0.0))
            cycle.append(np.full(n, c))
        c += 1
    cut = slice(0, n_cells)
    return Hypnogram(np.concatenate(state)[cut].astype(np.int8),
                     np.concatenate(slow)[cut], np.concatenate(cycle)[cut].astype(np.int8))


def _overlay_awakenings(rng: np.random.Generator, state: np.ndarray, slow: np.ndarray) -> None:
    """Brief awakenings, more frequent late in the night, each followed by some N1 (in place)."""
    n = len(state)
    hours = n * CELL_S / 3600.0
    # About 3 per hour of sleep; the rate doubles from the start to the end of the night.
    n_events = rng.poisson(3.2 * hours)
    starts = np.sort((rng.uniform(0.0, 1.0, n_events) ** 0.75 * n).astype(int))
    for start in starts:
        if state[start] == W or (state[start] == N3 and rng.random() < 0.85):
            continue  # arousals out of deep sleep are rare
        wake = _minutes(min(rng.lognormal(np.log(1.1), 0.7), 12.0))
        drowsy = _minutes(rng.uniform(0.3, 1.3))
        state[start:start + wake] = W
        state[start + wake:start + wake + drowsy] = N1
        slow[start:start + wake + drowsy] = 0.0


def _overlay_deep_sleep_breaks(rng: np.random.Generator, state: np.ndarray, slow: np.ndarray) -> None:
    """Short N2 intrusions into N3, as deep sleep rarely runs unbroken (in place)."""
    deep = np.flatnonzero(state == N3)
    if len(deep) == 0:
        return
    n_events = rng.poisson(len(deep) * CELL_S / 3600.0 * 3.0)
    for start in rng.choice(deep, size=n_events):
        length = _minutes(rng.uniform(0.5, 2.0))
        span = slice(start, start + length)
        hit = state[span] == N3
        state[span][hit] = N2
        slow[span][hit] = 0.12


def simulate_hypnogram(rng: np.random.Generator, *, hours: float) -> Hypnogram:
    """Draw one night's true hypnogram.

    Parameters
    ----------
    rng : numpy Generator
        The night's own stream; the same stream gives the same night.
    hours : float
        Length of the scored night, in hours (> 0).

    Returns
    -------
    Hypnogram
        ``ceil(hours * 3600 / 10)`` cells; the last minutes are wake (lights on).

    Examples
    --------
    >>> h = simulate_hypnogram(np.random.default_rng(0), hours=8.0)
    >>> len(h.state)
    2880
    """
    n_cells = int(np.ceil(hours * 3600.0 / CELL_S))
    night = _lay_cycles(rng, n_cells)
    state, slow = night.state, night.slow_wave
    _overlay_awakenings(rng, state, slow)
    _overlay_deep_sleep_breaks(rng, state, slow)
    final_wake = min(_minutes(rng.uniform(3.0, 10.0)), n_cells // 10)
    if final_wake > 0:
        state[n_cells - final_wake:] = W
        slow[n_cells - final_wake:] = 0.0
    return Hypnogram(state, slow, night.cycle)
