"""Faster forms of the networks, built from the plain ones: ``for_scoring`` and ``for_training``.

The networks in ``sleep_kd.models`` say what they are, in plain layers. This package holds the
forms that compute the same function with less work, kept out of the networks themselves:

- ``for_scoring(model)``: a new, frozen, eval-only copy for scoring (``sleep_kd.fast.scoring``):
  what ``evaluate.py`` and ``predict`` run;
- ``for_training(model)``: the same model with blocks swapped, in place, for equivalent layers
  that share its parameters (``sleep_kd.fast.training``): what the trainer runs
  (``train.fast_training``).

Both dispatch the same way: a form is registered by class name in a
:class:`~sleep_kd.registry.Registry` and found through the module's MRO (``sleep_kd.fast.forms``).
Both read U-Time's attributes by name; the names they rely on are a written contract in
``sleep_kd.models.utime`` (:data:`~sleep_kd.models.utime.FAST_FORM_CONTRACT`).
``sleep_kd.fast.phases`` (a convolution computed in polyphase form) serves both.
"""

from __future__ import annotations

from sleep_kd.fast import scoring as _scoring  # noqa: F401  (registers the scoring forms)
from sleep_kd.fast import training as _training  # noqa: F401  (registers the training forms)
from sleep_kd.fast.forms import (
    COMPILED_FORMS, SCORING_FORMS, TRAINING_FORMS, for_scoring, for_training, register_scoring, register_training,
)
from sleep_kd.fast.scoring import ScoringUTime
from sleep_kd.fast.training import Conv1dAsConv2d, PointwiseConv1d, UpsampledConv1d

__all__ = ["COMPILED_FORMS", "Conv1dAsConv2d", "PointwiseConv1d", "SCORING_FORMS", "ScoringUTime", "TRAINING_FORMS",
           "UpsampledConv1d", "for_scoring", "for_training", "register_scoring", "register_training"]
