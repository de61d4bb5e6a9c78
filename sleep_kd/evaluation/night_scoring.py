"""The one function that scores a night's windows: :func:`night_logits`, for ``evaluate.py`` and ``predict``.

``evaluate.py`` (:func:`sleep_kd.evaluation.scoring.predict_checkpoint`, a cohort split night by
night) and ``sleep_kd.predict`` (:func:`sleep_kd.predict.scoring.score_night`, one EDF night)
both call :func:`night_logits`, so the kappa ``evaluate.py`` reports is what ``predict``
delivers on the same night.

The rules, by kind of model:

- one-window model (U-Time): each window alone, in batches of ``batch_size``.
- causal context model (``sequence: tcn_causal``): each epoch from the T epochs that end with it,
  as a live monitor shows it (:func:`sleep_kd.evaluation.live.live_logits`).
- other context models (T epochs per sequence): :data:`CONTEXT_RULE`, one of

  - ``tile``: sequences at 0, T, 2T, ..., the last moved back to end with the night; each epoch
    takes the logits of the first sequence holding it (one sequence-model pass per epoch, the
    layout training validates with).
  - ``overlap``: sequences with half overlap (start every T // 2 epochs, the last ending with the
    night); each epoch's probabilities are the mean over the sequences holding it (about two
    sequence-model passes per epoch; an epoch near a tile's edge also sees its later neighbours).

  A night shorter than T is padded at its end with zero windows, as training pads. Either rule
  encodes each window once (an epoch's summary does not depend on its neighbours in eval mode) and
  runs only the small sequence model per sequence, so the two cost about the same.

``overlap`` is the rule (:data:`CONTEXT_RULE`): it scored higher on every context checkpoint
measured, for the same work; the figures are in :func:`night_logits`' docstring.
"""

from __future__ import annotations

import torch

from sleep_kd.evaluation.live import live_logits
from sleep_kd.evaluation.precision import DEFAULT_BATCH
from sleep_kd.models import context_epochs_of, is_causal

CONTEXT_RULES = ("tile", "overlap")
CONTEXT_RULE = "overlap"


@torch.no_grad()
def night_logits(model, windows: torch.Tensor, *, batch_size: int = DEFAULT_BATCH,
                 rule: str = CONTEXT_RULE) -> torch.Tensor:
    """Logits of one night's epochs (or, for a one-window model, of any batch of windows).

    Parameters
    ----------
    model : a one-window network ((B, in_channels, n_times) -> (B, n_classes)) or a
        :class:`~sleep_kd.models.ContextNet`, in eval mode (or their scoring copies, ``sleep_kd.fast.for_scoring``).
    windows : Tensor (n_epochs, in_channels, n_times), normalised, in night order, on the model's device.
    batch_size : windows per encoder pass (and about as many epochs per sequence-model pass).
    rule : a context model's rule (:data:`CONTEXT_RULES`, see the module docstring); not used otherwise.

    Returns
    -------
    Tensor (n_epochs, n_classes) of logits; for ``overlap``, the log of the mean probabilities
    (so a softmax gives the mean back exactly).

    Notes
    -----
    Why ``overlap`` and not ``tile``: measured by ``python -m bench.scoring_rule`` on the kd_study's
    context-20 checkpoints of the default synthetic cohort (24 subjects x 8 h, 5-fold split, 3
    training epochs; folds 0 and 1, fp32 and bf16 runs), Cohen's kappa on each fold's 5 test
    subjects (5,665 and 6,106 epochs), on the CPU in fp32:

    =====================  ==================  ==================
    checkpoint             kappa vs scored     kappa vs true
                           tile -> overlap     tile -> overlap
    =====================  ==================  ==================
    fp32 fold 0 ecg_base   0.425 -> 0.428      0.493 -> 0.497
    fp32 fold 0 kd_temp    0.424 -> 0.430      0.501 -> 0.507
    fp32 fold 0 feat_temp  0.473 -> 0.473      0.558 -> 0.559
    fp32 fold 0 eeg_base   0.768 -> 0.770      0.926 -> 0.925
    fp32 fold 1 ecg_base   0.688 -> 0.690      0.818 -> 0.827
    fp32 fold 1 kd_temp    0.556 -> 0.561      0.668 -> 0.673
    bf16 fold 1 ecg_base   0.645 -> 0.650      0.773 -> 0.777
    bf16 fold 1 kd_temp    0.566 -> 0.569      0.684 -> 0.685
    bf16 fold 1 feat_temp  0.545 -> 0.552      0.657 -> 0.668
    =====================  ==================  ==================

    ``overlap`` is higher against the scored stages on all nine (median +0.004, +0.0005 to
    +0.008) and against the true stages on eight (median +0.005); the two rules stage 95-98 % of
    the epochs alike. The work is the same: both encode each window once, and the sequence model's
    second pass adds 0.2 % of the floating-point operations; wall-clock, overlap / tile was
    0.8-2.7 (median 1.1) per night on a 2-core CPU shared with training runs. ``tile`` is kept
    for measuring (``rule="tile"``) and is the layout training's validation uses.
    """
    if rule not in CONTEXT_RULES:
        raise ValueError(f"rule must be one of {', '.join(CONTEXT_RULES)}, got {rule!r}")
    if is_causal(model):
        return live_logits(model, windows, batch_size=batch_size)
    if context_epochs_of(model):
        return _context_logits(model, windows, rule=rule, batch_size=batch_size)
    parts = [model(windows[first:first + batch_size]) for first in range(0, windows.shape[0], batch_size)]
    return torch.cat(parts) if parts else windows.new_zeros((0, model.n_classes))


def sequence_starts(n_epochs: int, context: int, *, rule: str = CONTEXT_RULE) -> list[int]:
    """First epochs of the T-epoch sequences of a ``rule``; the last ends with the night (or it is [0]).

    >>> sequence_starts(25, 10, rule="tile"), sequence_starts(25, 10, rule="overlap")
    ([0, 10, 15], [0, 5, 10, 15])
    """
    if n_epochs <= context:
        return [0]
    step = context if rule == "tile" else max(1, context // 2)
    starts = list(range(0, n_epochs - context + 1, step))
    return starts if starts[-1] == n_epochs - context else [*starts, n_epochs - context]


def _context_logits(model, windows: torch.Tensor, *, rule: str, batch_size: int) -> torch.Tensor:
    """:func:`night_logits` of a bidirectional context model: encode once, then the sequences of ``rule``."""
    T, n = model.context_epochs, windows.shape[0]
    padded = torch.cat([windows, windows.new_zeros((1, *windows.shape[1:]))])  # row n: past the night's end
    encoded = [model.summarise(padded[first:first + batch_size])[:2] for first in range(0, n + 1, batch_size)]
    logits, features = (torch.cat(part) for part in zip(*encoded))
    starts = torch.tensor(sequence_starts(n, T, rule=rule), device=windows.device)
    rows = (starts[:, None] + torch.arange(T, device=windows.device)[None, :]).clamp(max=n)  # (S, T) rows of `padded`
    out = torch.cat([model.contextualise(logits[chunk], features[chunk]).float()
                     for chunk in rows.split(max(1, batch_size // T))])  # (S, T, n_classes)
    inside = rows < n
    if rule == "tile":  # the first sequence holding an epoch scores it: go backwards, earlier ones overwrite
        result = out.new_zeros((n, out.shape[-1]))
        for s in reversed(range(len(starts))):
            result[rows[s][inside[s]]] = out[s][inside[s]]
        return result
    total = out.new_zeros((n, out.shape[-1])).index_add_(0, rows[inside], out.softmax(dim=-1)[inside])
    return (total / torch.bincount(rows[inside], minlength=n)[:, None]).log()


def whole_night_logits(model, nights: torch.Tensor, epochs: torch.Tensor, *, batch_size: int,
                       rule: str = CONTEXT_RULE) -> torch.Tensor:
    """:func:`night_logits` of items of :func:`sleep_kd.evaluation.live.whole_nights`.

    Parameters
    ----------
    nights : Tensor (B, L, in_channels, n_times): whole nights, zero windows after each night's end.
    epochs : Tensor (B, L) int: each position's epoch, -1 on the padding after the night.

    Returns
    -------
    Tensor (B, L, n_classes) float32: each night's logits, zeros on its padding.
    """
    out = torch.zeros((*nights.shape[:2], model.n_classes), device=nights.device)
    for row, (night, epoch) in enumerate(zip(nights, epochs)):
        n = int((epoch >= 0).sum())  # the padding after the night is not encoded
        out[row, :n] = night_logits(model, night[:n], batch_size=batch_size, rule=rule).float()
    return out
