"""A simulated human scorer: reads the true epochs and writes the labels that go into Base.edf.

Human scorers agree with each other on about 80 % of epochs; they disagree mostly at stage
transitions (where the boundary epoch is a judgement call) and between neighbouring stages
(W/N1, N1/N2, N2/N3, N1/REM), and their slips come in short runs. The scorer also leaves
stretches unscored (``?``): the first epochs around lights-off and a few artefact stretches.
"""

from __future__ import annotations

import numpy as np

from .stages import (LABEL_1, LABEL_2, LABEL_3, LABEL_4, LABEL_R, LABEL_UNSCORED, LABEL_W,
                     RK_STAGE4_SLOW_WAVE)

# Chance that the scorer moves a true stage boundary by one epoch.
BOUNDARY_SHIFT = 0.5
# Per true label: chance per epoch of starting a run of mislabelled epochs, and which
# neighbouring labels the slip goes to (with weights).
SLIPS: dict[int, tuple[float, dict[int, float]]] = {
    LABEL_W: (0.13, {LABEL_1: 1.0}),
    LABEL_1: (0.50, {LABEL_W: 0.35, LABEL_2: 0.45, LABEL_R: 0.2}),
    LABEL_2: (0.15, {LABEL_1: 0.55, LABEL_3: 0.45}),
    LABEL_3: (0.25, {LABEL_2: 1.0}),
    LABEL_4: (0.08, {LABEL_3: 1.0}),
    LABEL_R: (0.13, {LABEL_1: 0.6, LABEL_2: 0.3, LABEL_W: 0.1}),
}
MEAN_SLIP_RUN = 1.8  # epochs


def _shift_boundaries(rng: np.random.Generator, truth: np.ndarray) -> np.ndarray:
    """Move some stage boundaries one epoch earlier or later."""
    scored = truth.copy()
    for i in np.flatnonzero(np.diff(truth)) + 1:  # i is the first epoch of the new stage
        if rng.random() >= BOUNDARY_SHIFT:
            continue
        if rng.random() < 0.5:
            scored[i] = truth[i - 1]  # the old stage is kept one epoch too long
        else:
            scored[i - 1] = truth[i]  # the new stage is seen one epoch early
    return scored


def _slip_runs(rng: np.random.Generator, truth: np.ndarray, scored: np.ndarray) -> None:
    """Short runs of neighbouring-stage labels (in place on ``scored``)."""
    n = len(truth)
    start_p = np.zeros(n)
    for label, (p, _) in SLIPS.items():
        start_p[truth == label] = p / MEAN_SLIP_RUN
    for start in np.flatnonzero(rng.random(n) < start_p):
        targets, weights = zip(*SLIPS[int(truth[start])][1].items())
        slip = rng.choice(targets, p=np.array(weights) / sum(weights))
        length = rng.geometric(1.0 / MEAN_SLIP_RUN)
        run = np.arange(start, min(start + length, n))
        run = run[truth[run] == truth[start]]  # a slip stays within the stage it started in
        scored[run] = slip


def _rk_deep_split(rng: np.random.Generator, truth: np.ndarray, scored: np.ndarray,
                   slow_wave: np.ndarray) -> None:
    """R&K 3 vs 4 by eye: the scorer's slow-wave estimate is off by a few percent (in place)."""
    deep = np.isin(scored, (LABEL_3, LABEL_4)) & np.isin(truth, (LABEL_3, LABEL_4))
    seen = slow_wave + rng.normal(0.0, 0.06, len(truth))
    scored[deep] = np.where(seen[deep] > RK_STAGE4_SLOW_WAVE, LABEL_4, LABEL_3)


def unscored_runs(rng: np.random.Generator, n_epochs: int, *,
                  hours: float) -> list[tuple[int, int]]:
    """Epoch spans ``[start, stop)`` the scorer leaves as ``?``.

    The first 1–3 epochs (lights-off) and, at about 0.8 per hour, artefact stretches of
    1–6 epochs somewhere in the night (these are also where the signals carry artefacts).
    """
    runs = [(0, min(int(rng.integers(1, 4)), n_epochs))]
    for _ in range(rng.poisson(0.8 * hours)):
        length = int(rng.integers(1, 7))
        start = int(rng.integers(1, max(n_epochs - length, 2)))
        runs.append((start, min(start + length, n_epochs)))
    return runs


def score_night(rng: np.random.Generator, truth: np.ndarray, *, slow_wave: np.ndarray,
                unscored: list[tuple[int, int]], standard: str) -> np.ndarray:
    """Labels the simulated scorer gives to a night.

    Parameters
    ----------
    rng : numpy Generator
    truth : (n_epochs,) int
        True label codes (``stages.LABEL_*``).
    slow_wave : (n_epochs,) float
        Slow-wave fraction per epoch; R&K scorers split deep sleep into 3 and 4 by it.
    unscored : list of (start, stop)
        Epoch spans written as ``?``.
    standard : {"AASM", "R&K"}

    Returns
    -------
    (n_epochs,) int8
        Scored label codes, ``stages.LABEL_UNSCORED`` where the scorer gave none.
    """
    scored = _shift_boundaries(rng, truth)
    _slip_runs(rng, truth, scored)
    if standard == "R&K":
        _rk_deep_split(rng, truth, scored, slow_wave)
    for start, stop in unscored:
        scored[start:stop] = LABEL_UNSCORED
    return scored.astype(np.int8)


def agreement(truth: np.ndarray, scored: np.ndarray) -> float:
    """Share of scored (not ``?``) epochs whose label equals the true one."""
    kept = scored != LABEL_UNSCORED
    return float(np.mean(truth[kept] == scored[kept])) if kept.any() else float("nan")
