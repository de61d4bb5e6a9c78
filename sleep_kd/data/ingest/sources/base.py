"""What a source adapter is: the recording it finds, the night it reads, and its registry.

The adapters (``edf``, ``mass``, ``nsrr``) import this module; ``sleep_kd.data.ingest.sources``
imports them, which registers each under its name in :data:`SOURCES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from sleep_kd.data.ingest.hypnogram import EpochTable
from sleep_kd.data.stages import Stage
from sleep_kd.registry import Registry


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


SOURCES: Registry[type] = Registry("source")


def register_source(name: str) -> Callable[[type], type]:
    """Class decorator registering a source adapter under ``name`` (in :data:`SOURCES`)."""

    def decorate(cls: type) -> type:
        SOURCES.register(name, cls)
        cls.source_name = name
        return cls

    return decorate


def unscored_epochs(duration_s: float, epoch_s: float) -> EpochTable:
    """Every whole ``epoch_s`` epoch of ``duration_s`` seconds of signal, each stage UNSCORED.

    A night nobody scored keeps its place on the timeline: its epochs are stored like a scored
    night's, so the teacher can score them (``data.stages.UNSCORED_NIGHT`` in training).
    """
    n = int(duration_s // epoch_s)
    return EpochTable(np.arange(n) * float(epoch_s), np.full(n, float(epoch_s)),
                      np.full(n, int(Stage.UNSCORED), dtype=np.int8))
