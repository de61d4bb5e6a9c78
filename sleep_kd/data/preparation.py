"""How a checkpoint's windows were prepared: the ``data`` section of its ``config.json``, typed.

:func:`read_preparation` parses the section once, refusing a missing or malformed key with one
line that names it; evaluation and ``sleep_kd.predict`` then read attributes, never string keys.
Training writes the section (``sleep_kd.engine.assembly.checkpoint_record``); checkpoints written
before a key existed keep working where the key has a safe meaning: ``modality`` (ECG, the only
student then), ``class_names`` (the names of ``n_classes``), ``context_epochs`` (the model's own),
``leads`` (none recorded) and the split rule (``pooled``, seed 42, 5 folds, fold 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from sleep_kd.data.cohort_file import MODALITIES
from sleep_kd.data.dataset import NORMALIZATIONS
from sleep_kd.data.stages import class_names as names_of
from sleep_kd.errors import InputError

REQUIRED = ("n_classes", "sfreq", "window_s", "normalization")  # no checkpoint of train_loop.py lacks these


@dataclass(frozen=True)
class Lead:
    """One lead training read: its name as ingest recorded it, and whether ingest inverted it."""

    lead: str
    inverted: bool


@dataclass(frozen=True)
class Preparation:
    """A checkpoint's data preparation (config.json ``data``), as scoring needs it."""

    n_classes: int
    class_names: tuple[str, ...]
    sfreq: float  # Hz the model reads
    window_s: float  # seconds per window, centred on its scoring epoch
    normalization: str  # per window: minmax, zscore or none
    modality: str  # "ecg" or "eeg"
    context_epochs: int  # T epochs per sequence; 0 for a one-window model
    leads: tuple[Lead, ...] = ()  # training's leads and orientation (data.leads); () when not recorded
    path: str | None = None  # the cohort file it was trained on
    splits: Mapping[str, tuple[str, ...]] | None = None  # recording ids per split; None: re-derive by rule
    # A content id per split: tells a cohort whose recordings of those names hold other nights.
    split_content_ids: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    split: str = "pooled"  # the split rule, for checkpoints that do not record their splits
    split_seed: int = 42
    folds: int = 5
    fold: int = 0


def read_preparation(config: Mapping, *, checkpoint: str | Path) -> Preparation:
    """The :class:`Preparation` of a checkpoint's ``config.json`` (the whole file's mapping).

    InputError, one line naming ``checkpoint`` and the key: a missing ``data`` section or one of
    ``n_classes``, ``sfreq``, ``window_s``, ``normalization``; a value of the wrong kind.
    """
    data = config.get("data")
    data = data if isinstance(data, Mapping) else {}
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise InputError(f"checkpoint {checkpoint}: config.json has no data.{missing[0]} "
                         "(expected a checkpoint written by train_loop.py)")
    key = _Keys(data, checkpoint)
    n_classes = key.integer("n_classes", low=1)
    names = tuple(key.strings("class_names")) if data.get("class_names") else names_of(n_classes)
    if len(names) != n_classes:
        key.refuse("class_names", f"{n_classes} names (data.n_classes)")
    model = config.get("model") if isinstance(config.get("model"), Mapping) else {}
    splits = data.get("splits")
    return Preparation(
        n_classes=n_classes, class_names=names, sfreq=key.positive("sfreq"), window_s=key.positive("window_s"),
        normalization=key.choice("normalization", NORMALIZATIONS), modality=key.choice("modality", MODALITIES, "ecg"),
        context_epochs=key.integer("context_epochs", low=0, default=model.get("context_epochs", 0)),
        leads=_leads(data.get("leads"), checkpoint), path=key.text("path"),
        splits=None if not isinstance(splits, Mapping) else
        MappingProxyType({name: tuple(key.strings(f"splits.{name}", ids)) for name, ids in splits.items()}),
        split_content_ids=MappingProxyType(dict(data.get("split_content_ids") or {})),
        split=key.text("split") or "pooled", split_seed=key.integer("split_seed", low=0, default=42),
        folds=key.integer("folds", low=1, default=5), fold=key.integer("fold", low=0, default=0))


def _leads(record: Any, checkpoint: str | Path) -> tuple[Lead, ...]:
    """``data.leads``: a list of ``{"lead": NAME, "inverted": bool, ...}`` (one mapping is read as a list)."""
    leads = []
    for entry in (record if isinstance(record, list) else [record]) if record else []:
        if not (isinstance(entry, Mapping) and isinstance(entry.get("lead"), str)
                and isinstance(entry.get("inverted"), bool)):
            raise InputError(f"checkpoint {Path(checkpoint) / 'config.json'}: data.leads holds {entry!r}; expected "
                             "{'lead': NAME, 'inverted': true or false, ...}")
        leads.append(Lead(entry["lead"], entry["inverted"]))
    return tuple(leads)


class _Keys:
    """Typed reads of one ``data`` mapping; each refusal names the checkpoint, the key and its value."""

    def __init__(self, data: Mapping, checkpoint: str | Path) -> None:
        self.data, self.checkpoint = data, checkpoint

    def refuse(self, key: str, expected: str, value: Any = None) -> None:
        value = self.data.get(key) if value is None else value
        raise InputError(f"checkpoint {self.checkpoint}: config.json has data.{key} {value!r}; expected {expected}")

    def integer(self, key: str, *, low: int, default: Any = None) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            self.refuse(key, f"an integer >= {low}", value)
        return value

    def positive(self, key: str) -> float:
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            self.refuse(key, "a positive number")
        return float(value)

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value not in choices:
            self.refuse(key, f"one of {', '.join(choices)}", value)
        return value

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            self.refuse(key, "a string")
        return value

    def strings(self, key: str, value: Any = None) -> list[str]:
        value = self.data.get(key) if value is None else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.refuse(key, "a list of strings", value)
        return value
