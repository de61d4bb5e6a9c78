"""Source adapters: each finds its recordings under a root folder and reads one night.

A source is a small class registered with :func:`register_source`. The pipeline only talks to
this interface, so adding a database (SHHS, MESA...) is one new module here::

    @register_source("mydb")
    class MyDb:
        def __init__(self, **options): ...
        def find(self, root: Path) -> list[RecordingRef]: ...   # sorted by recording_id
        def read(self, ref: RecordingRef) -> Night: ...

Instances must be picklable: recordings are read in worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from sleep_kd.data.ingest.hypnogram import EpochTable
from sleep_kd.data.stages import Stage
from sleep_kd.errors import InputError


@dataclass(frozen=True)
class RecordingRef:
    """One night found by a source: its id, subject, subset and the files it is read from.

    ``listed_in`` names the manifest row that listed it (``"pairs.csv line 3"``), empty when the
    source found the files itself. ``pairing_problem`` says why no scoring file could be paired
    (several fit, or one fits several recordings); reading the night then fails with it. ``scored``
    False: the night has signals and no scoring (``ingest --unscored``); its epochs are
    :func:`unscored_epochs`.
    """

    recording_id: str
    subject: str
    subset: str
    signal_file: Path
    hypnogram_file: Path
    listed_in: str = ""
    pairing_problem: str = ""
    scored: bool = True  # False: a night nobody scored (``ingest --unscored``), read without a hypnogram


@dataclass
class Night:
    """One night as a source reads it, before cropping and resampling.

    Attributes
    ----------
    eeg : np.ndarray of float64 or None, shape (n_eeg_samples,)
        At ``eeg_sfreq`` Hz, from the EDF start; None for an ECG-only night.
    ecg : np.ndarray of float64 or None, shape (n_ecg_samples,)
        At ``ecg_sfreq`` Hz, from the EDF start; None when the night has no ECG.
    epochs : EpochTable
        Onsets in seconds from the EDF start.
    start_s : float
        Where the stored signal starts, seconds from the EDF start (MASS: the first annotation).
    epochs_past_end : {"error", "drop"}
        What a scoring epoch that runs past the signal end means for this source.
    attrs : dict
        Recording attributes for the cohort file (standard, derivations...).
    """

    eeg: np.ndarray | None
    eeg_sfreq: float | None
    ecg: np.ndarray | None
    ecg_sfreq: float | None
    epochs: EpochTable
    start_s: float = 0.0
    epochs_past_end: str = "error"
    attrs: dict = field(default_factory=dict)


class Source(Protocol):
    def find(self, root: Path) -> list[RecordingRef]: ...

    def read(self, ref: RecordingRef) -> Night: ...


_REGISTRY: dict[str, type] = {}


def register_source(name: str) -> Callable[[type], type]:
    """Class decorator registering a source adapter under ``name``."""

    def decorate(cls: type) -> type:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"source {name!r} is already registered")
        _REGISTRY[name] = cls
        cls.source_name = name
        return cls

    return decorate


def list_sources() -> list[str]:
    """Names of the registered sources, sorted."""
    _load_builtin()
    return sorted(_REGISTRY)


def create_source(name: str, **options) -> Source:
    """Build the source adapter ``name`` with its options (InputError lists the known names)."""
    _load_builtin()
    if name not in _REGISTRY:
        raise InputError(f"unknown source {name!r}: expected one of {', '.join(sorted(_REGISTRY))}")
    cls = _REGISTRY[name]
    try:
        return cls(**options)
    except TypeError:  # an option this source does not take
        flags = ", ".join("--" + key.replace("_", "-") for key in sorted(options))
        raise InputError(f"source {name!r} does not take option(s) {flags}") from None


def _load_builtin() -> None:
    # Imported here, not at module top, because the adapters import this module's classes.
    from sleep_kd.data.ingest.sources import edf, mass, nsrr  # noqa: F401


def unscored_epochs(duration_s: float, epoch_s: float) -> EpochTable:
    """Every whole ``epoch_s`` epoch of ``duration_s`` seconds of signal, each stage UNSCORED.

    A night nobody scored keeps its place on the timeline: its epochs are stored like a scored
    night's, so the teacher can score them (``data.stages.UNSCORED_NIGHT`` in training).
    """
    n = int(duration_s // epoch_s)
    return EpochTable(np.arange(n) * float(epoch_s), np.full(n, float(epoch_s)),
                      np.full(n, int(Stage.UNSCORED), dtype=np.int8))
