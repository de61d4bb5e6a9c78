"""Writing a night as MASS does: signals in ``<id> PSG.edf``, the scoring in ``<id> Base.edf``.

Both files share the recording start, so annotation onsets in Base.edf are seconds from the
start of the PSG. Header fields are fixed (no clock, no host) so the bytes depend only on the
data. edfio is imported where a file is written, so simulating nights (``simulate_night``, which
uses :class:`Channel`) needs no EDF writer installed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import edfio

START_DATE = dt.date(2005, 1, 1)
START_TIME = dt.time(22, 30, 0)


@dataclass(frozen=True)
class Channel:
    """One signal of the PSG file."""

    label: str
    data: np.ndarray  # (n_samples,) in ``unit``
    unit: str
    limit: float  # physical range is [-limit, limit]


def _signal(channel: Channel, sfreq: float) -> edfio.EdfSignal:
    import edfio

    clipped = np.clip(channel.data.astype(np.float64), -channel.limit, channel.limit)
    kind = channel.label.split(" ", 1)[0]
    return edfio.EdfSignal(clipped, sfreq, label=channel.label, physical_dimension=channel.unit,
                           physical_range=(-channel.limit, channel.limit),
                           transducer_type=f"{kind} electrode", prefiltering="synthetic")


def _header(record_id: str) -> dict:
    import edfio

    return {"patient": edfio.Patient(code=record_id.replace(" ", "_")),
            "recording": edfio.Recording(startdate=START_DATE, equipment_code="sleep_kd_synthetic"),
            "starttime": START_TIME}


def write_psg(path: Path, channels: list[Channel], *, sfreq: float, record_id: str) -> None:
    """Write the signals as EDF with 1 s data records (``n_samples`` must be whole seconds)."""
    import edfio

    signals = [_signal(c, sfreq) for c in channels]
    edfio.Edf(signals, data_record_duration=1.0, **_header(record_id)).write(path)


def write_base(path: Path, onsets: np.ndarray, durations: np.ndarray, texts: list[str], *,
               record_id: str) -> None:
    """Write EDF+ annotations only (``Sleep stage ...``), onsets in seconds from the PSG start."""
    import edfio

    annotations = [edfio.EdfAnnotation(float(o), float(d), t) for o, d, t in zip(onsets, durations, texts)]
    edfio.Edf([], annotations=annotations, **_header(record_id)).write(path)
