"""Scoring forms: a trained network as a new, frozen, faster copy that gives the same eval logits.

``sleep_kd.fast.for_scoring(model)`` builds it. The copy is a snapshot: build it after the weights
are final (after ``load_state_dict``), and again if they change. It has no parameters, so it
cannot drift from, or write to, the source. ``UTime`` -> :class:`~.utime.ScoringUTime`
(channels-last layout, phase forms, BatchNorm folded, split concatenations); ``ContextNet`` -> a
frozen eval copy of itself (:func:`~.context.frozen_eval_copy`).

A network that contains a U-Time (for example one that encodes each epoch with a ``UTime``
submodule) registers its own converter, which calls ``for_scoring`` on that submodule and wraps
the result::

    @register_scoring(MyNet)
    def _my_net_for_scoring(net):
        return ScoringMyNet(encoder=for_scoring(net.encoder), head=copy.deepcopy(net.head).eval())
"""

from __future__ import annotations

from sleep_kd.fast.forms import register_scoring
from sleep_kd.fast.scoring.context import frozen_eval_copy
from sleep_kd.fast.scoring.utime import ScoringUTime
from sleep_kd.models.context import ContextNet
from sleep_kd.models.utime import UTime

register_scoring(UTime)(ScoringUTime)
register_scoring(ContextNet)(frozen_eval_copy)

__all__ = ["ScoringUTime", "frozen_eval_copy"]
