"""Scoring forms of trained networks: ``for_scoring(model)`` returns a new, frozen, faster copy.

The networks in ``sleep_kd.models`` say what they are, in plain layers; this package builds from a
trained one a separate eval-only module that computes the same logits to float rounding, faster
on the CPU (channels-last layout, phase forms, BatchNorm folded, split concatenations: see
``sleep_kd.deploy.utime``). It is what scoring uses (``sleep_kd.evaluation.scoring``,
``bench/score.py``); training and the teacher's forward use the network itself.

The copy is a snapshot: build it after the weights are final (after ``load_state_dict``), and
again if they change. It has no parameters, so it cannot drift from, or write to, the source.

A network that contains a U-Time (for example a night-context network that encodes each epoch
with a ``UTime`` submodule) registers its own converter, which calls ``for_scoring`` on that
submodule and wraps the result::

    @register_scoring(ContextNet)
    def _context_for_scoring(net):
        return ScoringContextNet(encoder=for_scoring(net.encoder), head=copy.deepcopy(net.head).eval())

``for_scoring`` picks the converter of the model's class (or of its nearest registered base).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from sleep_kd.deploy.context import frozen_eval_copy
from sleep_kd.deploy.utime import ScoringUTime
from sleep_kd.models.context import ContextNet
from sleep_kd.models.utime import UTime

Converter = Callable[[nn.Module], nn.Module]
_CONVERTERS: dict[type, Converter] = {}


def register_scoring(cls: type) -> Callable[[Converter], Converter]:
    """Register ``converter(model) -> nn.Module`` as the scoring form of ``cls`` (decorator)."""
    def decorate(converter: Converter) -> Converter:
        if cls in _CONVERTERS:
            raise ValueError(f"a scoring converter for {cls.__name__} is already registered")
        _CONVERTERS[cls] = converter
        return converter
    return decorate


def for_scoring(model: nn.Module) -> nn.Module:
    """A new, frozen, eval-only module with ``model``'s eval logits: (B, C, n_times) -> (B, n_classes).

    ``model`` is left as it was (mode, parameters, gradients). Raises TypeError for a network
    with no registered scoring form, naming it.
    """
    for cls in type(model).__mro__:
        if cls in _CONVERTERS:
            with torch.no_grad():
                return _CONVERTERS[cls](model)
    known = ", ".join(sorted(c.__name__ for c in _CONVERTERS))
    raise TypeError(f"no scoring form for {type(model).__name__}; registered: {known}")


register_scoring(UTime)(ScoringUTime)
register_scoring(ContextNet)(frozen_eval_copy)

__all__ = ["ScoringUTime", "for_scoring", "register_scoring"]
