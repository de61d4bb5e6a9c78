"""Strategies as data: which loss terms train which student, from which teacher and start.

A :class:`Strategy` names its terms and their weights, its teacher and its starting point; the
training step (``step.py``) and the loop read those fields and never test a strategy's name.
Adding a strategy is one :func:`register_strategy` call (into :data:`STRATEGIES`, a
:class:`sleep_kd.registry.Registry`).
"""

from __future__ import annotations

import math
import dataclasses
from dataclasses import dataclass, field
from typing import Mapping

from sleep_kd.data.cohort_file import MODALITIES  # noqa: F401  (re-exported: the cohort file defines them)
from sleep_kd.errors import InputError
from sleep_kd.losses import get_loss
from sleep_kd.registry import Registry


@dataclass(frozen=True)
class Strategy:
    """One training variant.

    Attributes
    ----------
    name : str
    student_modality : {"eeg", "ecg"}
        Batch key the student reads.
    terms : Mapping[str, float]
        Loss term name -> weight; a weight of 0 means computed and logged, not trained.
    teacher : str or None
        Strategy whose best checkpoint is the frozen teacher.
    teacher_modality : {"eeg", "ecg"}
        Batch key the teacher reads.
    init_from : str or None
        Strategy whose best student checkpoint the student starts from.
    best_metric, best_mode : str
        Validation metric that picks the best checkpoint, and whether higher ("max") or lower
        ("min") is better.
    description : str
    control : bool
        A control arm of our studies (``ecg_self``), not one of the seed's six variants: it trains
        like any strategy, and :func:`list_strategies` names it only when asked for controls.
    """

    name: str
    student_modality: str
    terms: Mapping[str, float]
    teacher: str | None = None
    teacher_modality: str = "eeg"
    init_from: str | None = None
    best_metric: str = "weighted_f1"
    best_mode: str = "max"
    description: str = field(default="", compare=False)
    control: bool = False

    def __post_init__(self) -> None:
        # A private plain-dict copy: the caller's dict cannot change a registered strategy, and
        # dataclasses.asdict, json and yaml.safe_dump all accept it (a mapping proxy they do not).
        object.__setattr__(self, "terms", dict(self.terms))
        validate(self)
        object.__setattr__(self, "terms", {term: float(weight) for term, weight in self.terms.items()})

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def modalities(self) -> list[str]:
        """The signals a run of this strategy reads (the student's, and the teacher's if any), sorted."""
        return sorted({self.student_modality} | ({self.teacher_modality} if self.teacher else set()))

    def to_dict(self) -> dict:
        """Plain JSON/YAML-ready fields (for a run's config and checkpoint metadata)."""
        return dataclasses.asdict(self)

    @property
    def needs_teacher(self) -> bool:
        return self.teacher is not None

    @property
    def sees_unscored(self) -> bool:
        """Whether a term that trains (weight > 0) learns from the teacher alone, so nights nobody
        scored are training data for this strategy (``sd``'s KL, ``at``)."""
        return self.needs_teacher and any(weight > 0 and get_loss(term).label_free
                                          for term, weight in self.terms.items())


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate(strategy: Strategy) -> None:
    """Refuse an inconsistent strategy, saying which field is wrong."""
    where = f"strategy {strategy.name!r}"
    for key in ("student_modality", "teacher_modality"):
        if getattr(strategy, key) not in MODALITIES:
            raise InputError(f"{where}: {key} must be one of {MODALITIES}, got {getattr(strategy, key)!r}")
    if strategy.best_mode not in ("max", "min"):
        raise InputError(f"{where}: best_mode must be 'max' or 'min', got {strategy.best_mode!r}")
    if not strategy.terms:
        raise InputError(f"{where}: needs at least one loss term")
    for term, weight in strategy.terms.items():
        loss = get_loss(term)
        if not (_is_number(weight) and math.isfinite(weight) and weight >= 0):
            raise InputError(f"{where}: weight of loss term {term!r} must be a finite number >= 0, got {weight!r}")
        if loss.needs_teacher and strategy.teacher is None:
            raise InputError(f"{where}: loss term {term!r} needs a teacher, but the strategy names none")
    if not any(weight > 0 for weight in strategy.terms.values()):
        raise InputError(f"{where}: at least one loss term needs a positive weight")


STRATEGIES: Registry[Strategy] = Registry("strategy", plural="strategies")


def register_strategy(strategy: Strategy, *, replace: bool = False) -> Strategy:
    """Register ``strategy`` under its name; a duplicate is an error unless ``replace``."""
    return STRATEGIES.register(strategy.name, strategy, replace=replace)


def unregister_strategy(name: str) -> None:
    """Remove a registered strategy (for tests that register their own)."""
    STRATEGIES.unregister(name)


def get_strategy(name: str) -> Strategy:
    """The strategy ``name``; an unknown name is refused with the known names (control arms too)."""
    return STRATEGIES.get(name)


def list_strategies(*, controls: bool = False) -> list[str]:
    """Registered strategy names, sorted: the seed's variants (and any added ones), with ``controls``
    the control arms too."""
    return STRATEGIES.names(where=lambda strategy: controls or not strategy.control)
