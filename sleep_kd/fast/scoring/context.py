"""The scoring form of a night-context network: a frozen eval copy (no fast path yet).

``ContextNet`` reads the per-epoch encoder's taps (bottleneck and final means) as well as its
logits, and ``ScoringUTime`` returns logits only, so the context network is scored as itself, in
eval mode, with its parameters frozen: the same logits as the trained network, at the plain
network's speed. Moving its encoder onto ``for_scoring`` needs a tap-returning scoring form.

Every sequence model comes along, the causal ``tcn_causal`` included (its ``causal`` flag too).
Live scoring (``sleep_kd.evaluation.live``) calls the copy's ``summarise`` and ``contextualise``
halves, so a faster form must keep those two as well as ``forward``.
"""

from __future__ import annotations

import copy

from torch import nn


def frozen_eval_copy(net: nn.Module) -> nn.Module:
    """A deep copy of ``net`` in eval mode whose parameters need no gradient."""
    frozen = copy.deepcopy(net).eval()
    for parameter in frozen.parameters():
        parameter.requires_grad_(False)
    return frozen
