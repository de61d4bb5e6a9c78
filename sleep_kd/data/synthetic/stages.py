"""Stage vocabulary of the generator: physiological states and the labels a scorer writes.

The simulation runs on a fine grid of *cells* (10 s) carrying one of five physiological states
(W, N1, N2, N3, R) plus a slow-wave fraction. Scored epochs (20 s R&K, 30 s AASM) carry label
codes whose spellings are MASS's (``Sleep stage W/1/2/3/4/R/?``); R&K splits deep sleep into
3 and 4 by the share of the epoch taken by slow waves.
"""

from __future__ import annotations

import numpy as np

# Physiological states on the cell grid.
W, N1, N2, N3, REM = 0, 1, 2, 3, 4
STATE_NAMES = ("W", "N1", "N2", "N3", "R")
N_STATES = 5

# Epoch label codes; LABELS[code] is the string written after "Sleep stage ".
LABEL_W, LABEL_1, LABEL_2, LABEL_3, LABEL_4, LABEL_R, LABEL_UNSCORED = range(7)
LABELS = ("W", "1", "2", "3", "4", "R", "?")
STATE_TO_LABEL = np.array([LABEL_W, LABEL_1, LABEL_2, LABEL_3, LABEL_R])

CELL_S = 10.0  # seconds; divides both the 20 s and the 30 s epoch
EPOCH_S = {"AASM": 30.0, "R&K": 20.0}
# R&K stage 4 means slow waves over more than half of the epoch (stage 3: 20-50 %).
RK_STAGE4_SLOW_WAVE = 0.5


def epoch_states(cell_state: np.ndarray, cell_slow_wave: np.ndarray, *,
                 cells_per_epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """Collapse cells into epochs: the majority state and the mean slow-wave fraction.

    Parameters
    ----------
    cell_state : (n_cells,) int
        State per cell; only whole epochs are used, trailing cells are ignored.
    cell_slow_wave : (n_cells,) float
        Fraction of each cell covered by slow waves, in [0, 1].
    cells_per_epoch : int
        Cells per scored epoch (2 for 20 s, 3 for 30 s epochs).

    Returns
    -------
    state : (n_epochs,) int
        Majority state; a tie goes to the state of the epoch's first cell.
    slow_wave : (n_epochs,) float
    """
    n_epochs = len(cell_state) // cells_per_epoch
    cells = cell_state[: n_epochs * cells_per_epoch].reshape(n_epochs, cells_per_epoch)
    counts = np.stack([(cells == s).sum(axis=1) for s in range(N_STATES)], axis=1)
    best = np.where(counts.max(axis=1) == counts[np.arange(n_epochs), cells[:, 0]],
                    cells[:, 0], counts.argmax(axis=1))
    slow = cell_slow_wave[: n_epochs * cells_per_epoch].reshape(n_epochs, cells_per_epoch)
    return best.astype(np.int8), slow.mean(axis=1)


def true_labels(state: np.ndarray, slow_wave: np.ndarray, *, standard: str) -> np.ndarray:
    """Label codes of the true epochs: AASM keeps N3 as ``3``; R&K splits 3/4 by slow waves."""
    labels = STATE_TO_LABEL[state].copy()
    if standard == "R&K":
        labels[(state == N3) & (slow_wave > RK_STAGE4_SLOW_WAVE)] = LABEL_4
    return labels.astype(np.int8)
