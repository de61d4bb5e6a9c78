"""Which faster form a network (or one of its blocks) takes: registries by class name, one dispatch.

A form is a function ``form(module) -> nn.Module`` registered under the name of the class it
applies to, in one of three :class:`~sleep_kd.registry.Registry`:

- :data:`SCORING_FORMS`: a whole trained network -> a new, frozen scoring copy (:func:`for_scoring`);
- :data:`TRAINING_FORMS`: a block -> the same block with layers swapped for equivalent, faster ones
  that share its parameters (:func:`for_training`);
- :data:`COMPILED_FORMS`: the same, applied only when the model is about to be ``torch.compile``'d.

A module takes the form of its own class or, failing that, of its nearest base class that has one
(:func:`form_of` walks the class's MRO), so a subclass of ``UTime`` is scored as a ``UTime``
unless it registers its own form.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from sleep_kd.registry import Registry

Form = Callable[[nn.Module], nn.Module]

SCORING_FORMS: Registry[Form] = Registry("scoring form")
TRAINING_FORMS: Registry[Form] = Registry("training form")
COMPILED_FORMS: Registry[Form] = Registry("compiled training form")


def register_scoring(cls: type) -> Callable[[Form], Form]:
    """Register ``converter(model) -> nn.Module`` as the scoring form of ``cls`` (decorator)."""
    return SCORING_FORMS.register(cls.__name__)


def register_training(cls: type, *, compiled: bool = False) -> Callable[[Form], Form]:
    """Register ``form(block) -> nn.Module`` as the training form of ``cls`` (decorator);
    ``compiled``: only for a model about to be ``torch.compile``'d."""
    return (COMPILED_FORMS if compiled else TRAINING_FORMS).register(cls.__name__)


def form_of(forms: Registry[Form], module: nn.Module) -> Form | None:
    """The form registered for ``module``'s class or its nearest base class, or None."""
    return forms.find([cls.__name__ for cls in type(module).__mro__])


def for_scoring(model: nn.Module) -> nn.Module:
    """A new, frozen, eval-only module with ``model``'s eval logits: (B, C, n_times) -> (B, n_classes).

    ``model`` is left as it was (mode, parameters, gradients). Raises TypeError for a network
    with no registered scoring form, naming it.
    """
    form = form_of(SCORING_FORMS, model)
    if form is None:
        raise TypeError(f"no scoring form for {type(model).__name__}; registered: {', '.join(SCORING_FORMS.names())}")
    with torch.no_grad():
        return form(model)


def for_training(model: nn.Module, *, compiled: bool = False) -> nn.Module:
    """``model`` with every block in its training form; returns ``model`` (changed in place).

    Works on any network that contains U-Time blocks (``UTime``, ``ContextNet``'s per-epoch
    encoder). Idempotent. Parameters, buffers and state_dict keys are unchanged. ``compiled``:
    the model is about to be ``torch.compile``'d, so the :data:`COMPILED_FORMS` apply too.
    """
    model = apply_forms(model, TRAINING_FORMS)
    return apply_forms(model, COMPILED_FORMS) if compiled else model


def apply_forms(module: nn.Module, forms: Registry[Form]) -> nn.Module:
    """``module`` and, below it, every submodule in its registered form (top down); returns the module."""
    form = form_of(forms, module)
    if form is not None:
        module = form(module)
    for name, child in list(module.named_children()):
        converted = apply_forms(child, forms)
        if converted is not child:
            setattr(module, name, converted)
    return module
