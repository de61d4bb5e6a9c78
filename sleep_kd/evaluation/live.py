"""Live scoring of a causal context model: each epoch as a bedside monitor shows it at the epoch's end.

The rule, for a context model of T epochs: epoch t's logits are the last position of the model's
output on the T epochs that end with t, ``x[t-T+1], ..., x[t]``, where an epoch before the
night's start is a zero window (as training pads a sequence that starts before the recording).
So nothing after t is read, whatever the sequence model, and the first n epochs of a night score
the same whether the night goes on or not. It is the causal model's rule of
:func:`sleep_kd.evaluation.night_scoring.night_logits`, which ``evaluate.py`` and
``sleep_kd.predict`` both call, so the figure ``evaluate.py`` reports is what a live monitor delivers.

Cost: the encoder reads each window once (an epoch's summary does not depend on its neighbours
in eval mode), plus one zero window per night; only the small sequence model runs once per
epoch on its T summaries. A monitor does the same work per epoch: one window through the encoder,
one T-epoch pass of the sequence model.
"""

from __future__ import annotations

import torch

from sleep_kd.data.sequences import CohortSequences
from sleep_kd.evaluation.precision import DEFAULT_BATCH


@torch.no_grad()
def live_logits(model, windows: torch.Tensor, *, batch_size: int = DEFAULT_BATCH) -> torch.Tensor:
    """Logits of one night's epochs, each from the T epochs that end with it.

    Parameters
    ----------
    model : a :class:`~sleep_kd.models.ContextNet` (or its scoring copy) in eval mode.
    windows : Tensor (n_epochs, in_channels, n_times), normalised, on the model's device.
    batch_size : windows per encoder pass (and about as many epochs per sequence-model pass).

    Returns
    -------
    Tensor (n_epochs, n_classes): row t equals ``model(x[None, t-T+1:t+1])[0, -1]`` (zero windows
    before the start), to float rounding.
    """
    T, n = model.context_epochs, windows.shape[0]
    padded = torch.cat([windows.new_zeros((1, *windows.shape[1:])), windows])  # row 0: every epoch before the night
    logits, features = [], []
    for first in range(0, n + 1, batch_size):
        part_logits, part_features, _ = model.summarise(padded[first:first + batch_size])
        logits.append(part_logits)
        features.append(part_features)
    logits, features = torch.cat(logits), torch.cat(features)
    # Row t of `ending` indexes the T epochs that end with epoch t (+1 for the zero row; < 0 -> the zero row).
    ending = (torch.arange(n)[:, None] + torch.arange(1 - T, 1)[None, :]).clamp(min=-1) + 1
    out = []
    for first in range(0, n, max(1, batch_size // T)):
        rows = ending[first:first + max(1, batch_size // T)].to(windows.device)
        out.append(model.contextualise(logits[rows], features[rows])[:, -1])
    return torch.cat(out) if out else logits[:0]


def whole_nights(path, *, context_epochs: int, **options) -> CohortSequences:
    """A cohort split with each recording as one item: its whole night, then zero windows (label -1) up
    to the longest night's length; ``options`` as :class:`CohortSequences`' evaluation layout. How
    ``evaluate.py`` reads a context model's split (each item through
    :func:`~sleep_kd.evaluation.night_scoring.whole_night_logits`)."""
    tiles = CohortSequences(path, context_epochs=context_epochs, train=False, **options)
    # The evaluation layout's last sequence of a night ends with it, so the last position + 1 is its length.
    longest = max([context_epochs, *(int(tiles.positions(i)[1][-1]) + 1 for i in range(len(tiles)))])
    tiles.close()
    return CohortSequences(path, context_epochs=longest, train=False, **options)
