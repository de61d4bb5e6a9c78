"""What each config key may hold: its type and its range or choices, one line per key.

``configs/defaults.yaml`` is the one place of the defaults (and their comments); this module is
the one place of the rules. :data:`SCHEMA` has exactly the keys of the defaults file (checked
when the defaults are read), and every value from every layer (the defaults, ``--config``, the
command-line flags, ``--set``) goes through :meth:`Rule.check`, which returns the value in its
canonical form (``"3e-4"`` -> ``0.0003``, a deprecated alias -> its new name) or raises one
:class:`~sleep_kd.errors.InputError` line naming the key, the value, where it came from and what
is allowed. The fixed choice lists are in :mod:`sleep_kd.choices` (each written once, and imported
by the code that acts on the value too); registered names (models, strategies) are read from their
registries only when a value is checked.

Adding a key: one line in :data:`SCHEMA` and one line (with its comment) in defaults.yaml.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from sleep_kd.choices import (
    AT_DISTANCES, AT_GROUP_WEIGHTINGS, AT_NORMALIZATIONS, KL_REDUCTIONS, LR_SCHEDULES, MIXED_PRECISIONS,
    NONFINITE_POLICIES, NORMALIZATIONS, SEED_ALIASES, SPLIT_METHODS, TAP_GROUPS,
)
from sleep_kd.errors import InputError


class Refused(ValueError):
    """A value a rule does not allow (turned into an InputError naming key and origin)."""


@dataclass(frozen=True)
class Rule:
    """Base rule: ``check(value) -> canonical value`` or :class:`Refused`; ``allowed`` says what is."""

    nullable: bool = field(default=False, kw_only=True)

    @property
    def allowed(self) -> str:  # pragma: no cover - every rule overrides it
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        raise NotImplementedError

    def check(self, value: Any) -> Any:
        if value is None and self.nullable:
            return None
        return self.convert(value)

    def describe(self) -> str:
        return self.allowed + (" or null" if self.nullable else "")


def _bounds_text(kind: str, low, high, low_open: bool) -> str:
    show = lambda v: str(v) if isinstance(v, int) else f"{v:g}"  # noqa: E731
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{show(low)}, {show(high)}]"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {show(low)}"
    return kind


def _limit(bound):
    """A bound, or a function giving it (a loss term's own limit, read where it is defined)."""
    return bound() if callable(bound) else bound


@dataclass(frozen=True)
class Int(Rule):
    """An integer (not a bool) in ``[low, high]``."""

    low: int | None = None
    high: int | Callable[[], int] | None = None
    note: str = ""

    @property
    def allowed(self) -> str:
        return _bounds_text("an integer", self.low, _limit(self.high), False) + (
            f" ({self.note})" if self.note else "")

    def convert(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Refused
        high = _limit(self.high)
        if (self.low is not None and value < self.low) or (high is not None and value > high):
            raise Refused
        return value


@dataclass(frozen=True)
class Float(Rule):
    """A finite number, stored as float; any spelling ``float()`` accepts (YAML 1.1 reads 3e-4 as text)."""

    low: float | None = None
    high: float | Callable[[], float] | None = None
    low_open: bool = False
    note: str = ""

    @property
    def allowed(self) -> str:
        return _bounds_text("a finite number", self.low, _limit(self.high), self.low_open) + (
            f" ({self.note})" if self.note else "")

    def convert(self, value):
        if isinstance(value, bool):
            raise Refused
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise Refused from None
        if not isinstance(value, (int, float)):
            raise Refused
        try:
            value = float(value)  # an integer too large for a float is refused, not an OverflowError
        except OverflowError:
            raise Refused from None
        if not math.isfinite(value):
            raise Refused
        high = _limit(self.high)
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            raise Refused
        if high is not None and value > high:
            raise Refused
        return value


@dataclass(frozen=True)
class Bool(Rule):
    @property
    def allowed(self) -> str:
        return "true or false"

    def convert(self, value):
        if not isinstance(value, bool):
            raise Refused
        return value


@dataclass(frozen=True)
class Text(Rule):
    """A non-empty string (a path, a name checked where it is used)."""

    what: str = "a non-empty string"

    @property
    def allowed(self) -> str:
        return self.what

    def convert(self, value):
        if not isinstance(value, str) or not value.strip():
            raise Refused
        return value


def _listed(choices: Sequence | Callable[[], Sequence]) -> tuple:
    """A choice list, or a registry's names read when a value is checked (a function giving them)."""
    return tuple(choices() if callable(choices) else choices)


@dataclass(frozen=True)
class Choice(Rule):
    """One of ``choices``; ``aliases`` map a deprecated name to its new one (with a one-line notice)."""

    choices: Sequence | Callable[[], Sequence] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)

    @property
    def allowed(self) -> str:
        return "one of " + ", ".join(str(c) for c in _listed(self.choices))

    def convert(self, value):
        if isinstance(value, str) and value in self.aliases:
            return self.aliases[value]
        if isinstance(value, bool) or value not in _listed(self.choices):
            raise Refused
        return value


@dataclass(frozen=True)
class Subset(Rule):
    """A non-empty list of distinct items of ``choices``."""

    choices: Sequence | Callable[[], Sequence] = ()

    @property
    def allowed(self) -> str:
        return "a non-empty list of distinct items of " + ", ".join(_listed(self.choices))

    def convert(self, value):
        if not isinstance(value, (list, tuple)) or not value or len(set(map(str, value))) != len(value):
            raise Refused
        if any(not isinstance(v, str) or v not in _listed(self.choices) for v in value):
            raise Refused
        return list(value)


@dataclass(frozen=True)
class Options(Rule):
    """A free-form mapping whose inner keys its consumer checks (``model.overrides``: the model)."""

    @property
    def allowed(self) -> str:
        return "a mapping of options"

    def convert(self, value):
        if not isinstance(value, Mapping):
            raise Refused
        return dict(value)


def _strategies():
    from sleep_kd.strategies import list_strategies
    return list_strategies(controls=True)


def _models():
    from sleep_kd.models import list_models
    return list_models()


def _loss_limit(module: str, name: str):
    """A loss term's own limit, read from its module when a value is checked (the losses import torch)."""
    def limit():
        from importlib import import_module
        return getattr(import_module(f"sleep_kd.losses.{module}"), name)
    return limit


SEED_MAX = 2**32 - 1  # accelerate's set_seed (numpy's) range
# Upper bounds: each far past what a real run uses, and below what overflows or allocates without end
# (a weight decay of 1e300 overflows Adam's step; a timeout of 1e300 s overflows a timedelta).
# Counts that the data bounds (a batch, the folds) are checked again against the cohort when it is read.

SCHEMA: dict[str, Rule] = {
    "seed": Int(low=0, high=SEED_MAX),
    "strategy": Choice(_strategies, nullable=True),
    "data.path": Text(nullable=True, what="a cohort file path"),
    "data.n_classes": Choice((3, 4)),
    "data.window_s": Float(low=0, low_open=True, high=300.0),  # 10 scoring epochs
    "data.normalization": Choice(NORMALIZATIONS),
    "data.split": Choice(SPLIT_METHODS, aliases=SEED_ALIASES),
    "data.split_seed": Int(low=0, high=SEED_MAX),
    "data.folds": Int(low=3, high=1000, note="at most the cohort's subjects"),
    "data.fold": Int(low=0, high=999, note="below data.folds"),
    "data.num_workers": Int(low=0, high=128),
    "data.scored_subjects": Int(low=0, high=100_000, note="0 = all; at most the training split's subjects"),
    "data.val_subjects": Int(low=0, high=100_000, note="0 = all of the validation split's subjects"),
    "model.name": Choice(_models),
    "model.overrides": Options(),
    "model.context_epochs": Int(low=0, high=1440, note="0 for the preset's own length, else at least 1; "
                                                      "1440 = 12 h of 30-s epochs"),
    "loss.wce.apply_weights": Bool(),
    "loss.sd.temperature": Float(low=0, low_open=True, high=_loss_limit("distillation", "TEMPERATURE_MAX")),
    "loss.sd.alpha": Float(low=0, high=1),
    "loss.sd.kl_reduction": Choice(KL_REDUCTIONS),
    "loss.at.p": Float(low=0, low_open=True, high=_loss_limit("attention", "P_MAX")),
    "loss.at.normalize": Choice(AT_NORMALIZATIONS),
    "loss.at.distance": Choice(AT_DISTANCES),
    "loss.at.groups": Subset(TAP_GROUPS),
    "loss.at.group_weighting": Choice(AT_GROUP_WEIGHTINGS, aliases=SEED_ALIASES),
    "train.epochs": Int(low=1, high=1000),
    "train.batch_size": Int(low=1, high=8192, note="at most the training windows"),
    "train.windows_per_epoch": Int(low=0, high=10**8, note="0 = every training window"),
    "train.grad_accum": Int(low=1, high=1024),
    "train.lr": Float(low=0, low_open=True, high=1.0),
    "train.weight_decay": Float(low=0, high=1.0),
    "train.lr_schedule": Choice(LR_SCHEDULES),
    "train.clip_grad_norm": Float(low=0, high=1000.0, note="0 = no clipping"),
    "train.mixed_precision": Choice(MIXED_PRECISIONS),
    "train.precision_reason": Text(nullable=True, what="a line of text (written when the config is resolved)"),
    "train.val_every": Int(low=1, high=1000),
    "train.early_stopping": Int(low=0, high=1000, note="0 = never"),
    "train.nonfinite": Choice(NONFINITE_POLICIES),
    "train.log_every": Int(low=1, high=10**6),
    "train.save_state_every": Int(low=0, high=10**9, note="0 = at epoch ends only"),
    "train.max_steps": Int(low=0, high=10**9, note="0 = no limit"),
    "train.cpu": Bool(),
    "train.deterministic": Bool(),
    "train.compile": Bool(),
    "train.fast_training": Bool(),
    "train.collective_timeout_s": Float(low=0, low_open=True, high=86400.0),  # one day
    "paths.runs": Text(what="a folder path"),
    "paths.out": Text(nullable=True, what="a folder path"),
    "paths.teacher": Text(nullable=True, what="a checkpoint folder path"),
    "paths.init": Text(nullable=True, what="a checkpoint folder path"),
    "paths.encoder_init": Text(nullable=True, what="a checkpoint folder path"),
}


def check_value(key: str, value: Any, *, origin: str) -> Any:
    """``value`` of ``key`` in its canonical form, or one InputError line saying what is allowed."""
    rule = SCHEMA[key]
    try:
        checked = rule.check(value)
    except Refused:
        raise InputError(f"config key '{key}' in {origin} is {value!r}; allowed: {rule.describe()}") from None
    if isinstance(rule, Choice) and value in rule.aliases:
        print(f"[sleep_kd] note: config key '{key}' in {origin}: {value!r} is the old name of "
              f"{checked!r}; write {checked!r}", file=sys.stderr)
    return checked
