"""Registry of loss terms and the uniform signature they share.

Every term is a function ``fn(student, teacher, targets, **options) -> scalar Tensor`` where
``student`` and ``teacher`` are :class:`Outputs` (teacher ``None`` when the term needs none) and
``targets`` holds the stage labels (B,). A term is registered with :func:`register_loss` under its
function name (in :data:`LOSSES`, a :class:`sleep_kd.registry.Registry`), together with what it
needs (a teacher, feature taps), so a strategy can name its terms as data and the step can tell
what to compute without knowing any term by name.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch

from sleep_kd.errors import InputError
from sleep_kd.registry import Registry


@dataclass
class Outputs:
    """What one network pass gives a loss term.

    Attributes
    ----------
    logits : Tensor (B, C)
    taps : dict[str, list[Tensor]] or None
        Intermediate feature maps by group (see ``sleep_kd.models.TAP_GROUPS``), when requested.
    """

    logits: torch.Tensor
    taps: dict[str, list[torch.Tensor]] | None = None


@dataclass(frozen=True)
class LossTerm:
    """A registered loss term: the function plus what it needs.

    ``parts``, when given, returns named detached components of the term (for logging only).
    ``label_free``: the term (or, for ``sd``, its teacher part) needs no stage, so it sees the
    epochs of nights nobody scored (targets -2); it must then mask any label part itself.
    """

    name: str
    fn: Callable[..., torch.Tensor]
    needs_teacher: bool = False
    needs_taps: bool = False
    parts: Callable[..., dict[str, torch.Tensor]] | None = None
    label_free: bool = False

    @property
    def option_names(self) -> tuple[str, ...]:
        params = inspect.signature(self.fn).parameters.values()
        return tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Refuse option names the term does not take, and values of another type than the default's."""
        params = inspect.signature(self.fn).parameters
        for key, value in options.items():
            if key not in self.option_names:
                raise InputError(
                    f"loss term {self.name!r} has no option {key!r}; its options: {', '.join(self.option_names)}"
                )
            default = params[key].default
            if default is inspect.Parameter.empty or default is None or value is None:
                continue
            if isinstance(default, bool) or isinstance(value, bool):
                ok = isinstance(value, bool) and isinstance(default, bool)
            elif isinstance(default, (int, float)):
                ok = isinstance(value, (int, float))
            elif isinstance(default, (list, tuple)):  # YAML gives lists
                ok = isinstance(value, (list, tuple))
            else:
                ok = isinstance(value, type(default))
            if not ok:
                raise InputError(f"loss term {self.name!r}: option {key!r} must be {type(default).__name__}, "
                                 f"got {value!r}")

    def __call__(self, student: Outputs, teacher: Outputs | None, targets: torch.Tensor,
                 **options: Any) -> torch.Tensor:
        self.check_options(options)
        if self.needs_teacher and teacher is None:
            raise InputError(f"loss term {self.name!r} needs teacher outputs, got none")
        return self.fn(student, teacher, targets, **options)


LOSSES: Registry[LossTerm] = Registry("loss term")


def register_loss(*, needs_teacher: bool = False, needs_taps: bool = False,
                  parts: Callable[..., dict[str, torch.Tensor]] | None = None, label_free: bool = False) -> Callable:
    """Decorator registering a loss function under its own name (in :data:`LOSSES`).

    Options of the term are the function's keyword-only parameters.
    """

    def decorate(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        LOSSES.register(fn.__name__, LossTerm(fn.__name__, fn, needs_teacher, needs_taps, parts, label_free))
        return fn

    return decorate


def get_loss(name: str) -> LossTerm:
    """The registered term ``name``; an unknown name is refused with the known names."""
    return LOSSES.get(name)


def list_losses() -> list[str]:
    """Registered loss term names, sorted."""
    return LOSSES.names()
