"""Tiny MASS-like EDF nights written with edfio, for ingest tests.

A night has EEG channels whose derivation is known (C3 = 10 Hz tone + common signal, A2/A1 =
the common signal, so C3 - A2 is the tone), an ECG with positive spikes (so inversion shows as a
negative mean), a ``<id> PSG.edf`` and a ``<id> Base.edf`` of stage annotations.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import edfio
import numpy as np

START = dt.datetime(2020, 1, 1, 22, 0, 0)
TONE_HZ = 10.0
TONE_UV = 50.0
MASS_EEG = ("EEG C3-CLE", "EEG A2-CLE")
LABELS = {"W": "Sleep stage W", "1": "Sleep stage 1", "2": "Sleep stage 2", "3": "Sleep stage 3",
          "4": "Sleep stage 4", "R": "Sleep stage R", "?": "Sleep stage ?"}


def tone(n_samples: int, sfreq: float) -> np.ndarray:
    return TONE_UV * np.sin(2 * np.pi * TONE_HZ * np.arange(n_samples) / sfreq)


def night_signals(channels, n_samples: int, sfreq: float, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Signals (microvolts) for the channel labels given."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / sfreq
    common = 200 * np.sin(2 * np.pi * 0.7 * t) + rng.normal(0, 1, n_samples)
    out = {}
    for label in channels:
        if label.startswith("ECG"):
            out[label] = 400 * (np.sin(2 * np.pi * 1.2 * t) > 0.95) + rng.normal(0, 5, n_samples)
        elif label in ("EEG C3-CLE", "EEG C4-CLE", "EEG C3-LER"):
            out[label] = tone(n_samples, sfreq) + (0 if label.endswith("LER") else common)
        else:
            out[label] = common
    return out


def write_edf(path: Path, signals: dict[str, np.ndarray], sfreq: float, *, start=START, annotations=()) -> Path:
    edf_signals = [edfio.EdfSignal(x, sfreq, label=label, physical_dimension="uV") for label, x in signals.items()]
    edf = edfio.Edf(edf_signals, starttime=start.time(), recording=edfio.Recording(startdate=start.date()),
                    annotations=[edfio.EdfAnnotation(o, d, text) for o, d, text in annotations])
    edf.write(path)
    return path


def write_annotations(path: Path, annotations, *, start=START) -> Path:
    """An annotation-only EDF+ (like MASS Base.edf or Sleep-EDF hypnograms)."""
    edf = edfio.Edf([], starttime=start.time(), recording=edfio.Recording(startdate=start.date()),
                    annotations=[edfio.EdfAnnotation(o, d, text) for o, d, text in annotations])
    edf.write(path)
    return path


def write_mass_night(folder: Path, rid: str, stages: str, *, epoch_s: float = 30.0, sfreq: float = 256.0,
                     lead_s: float = 0.0, tail_s: float = 0.0, channels=MASS_EEG + ("ECG ECGI",),
                     seed: int = 0) -> tuple[Path, Path]:
    """Write ``<rid> PSG.edf`` and ``<rid> Base.edf``; ``stages`` is one character per epoch (W123 4R?)."""
    folder.mkdir(parents=True, exist_ok=True)
    duration = lead_s + len(stages) * epoch_s + tail_s
    n_samples = int(round(duration * sfreq))
    psg = write_edf(folder / f"{rid} PSG.edf", night_signals(channels, n_samples, sfreq, seed=seed), sfreq)
    notes = [(lead_s + i * epoch_s, epoch_s, LABELS[s]) for i, s in enumerate(stages)]
    base = write_annotations(folder / f"{rid} Base.edf", notes)
    return psg, base


def stage_codes(stages: str) -> list[int]:
    codes = {"W": 0, "1": 1, "2": 2, "3": 3, "4": 4, "R": 5, "?": -2}
    return [codes[s] for s in stages]
