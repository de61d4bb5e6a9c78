"""One night from an EDF file to the model's windows: read, cut, resample, window, normalise.

Reading goes through ingest's EDF reader (:mod:`sleep_kd.data.ingest.edf_reader`, MNE under it)
and resampling through ingest's resampler (:func:`sleep_kd.data.resampling.resample`), so
a night is prepared exactly as a cohort night was; windows are centred on each scoring epoch and
normalised per window as :class:`~sleep_kd.data.dataset.CohortWindows` does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sleep_kd.data.dataset import normalize_rows
from sleep_kd.data.ingest.edf_reader import check_signal, read_header, read_signal
from sleep_kd.data.resampling import resample
from sleep_kd.errors import InputError
from sleep_kd.predict.channels import ChannelChoice, choose_channel

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$")


@dataclass
class RawNight:
    """The chosen channel of one EDF, cut to ``[offset_s, offset_s + duration)`` of the file.

    ``signal`` is (n_samples,) float64 at ``sfreq`` Hz (the channel's own rate), microvolts for
    volt-based units; ``start`` is the clock time of the first kept sample (None if the header
    has no valid start); ``recording_s`` the seconds of the whole channel, before the cut.
    """

    path: Path
    signal: np.ndarray
    sfreq: float
    choice: ChannelChoice
    offset_s: float
    start: dt.datetime | None
    recording_s: float = 0.0


def parse_time(value: str | None, *, start: dt.datetime | None, name: str) -> float | None:
    """``--start``/``--end`` as seconds from the recording start.

    ``value`` is seconds (``"3600"``) or a clock time (``"23:15"``, ``"06:30:00"``): the first
    such time at or after the recording start, so a night may cross midnight.
    """
    if value is None:
        return None
    text = str(value).strip()
    match = _CLOCK.match(text)
    if match is None:
        try:
            seconds = float(text)
        except ValueError:
            seconds = float("nan")
        if not np.isfinite(seconds) or seconds < 0:
            raise InputError(f"--{name} {value!r}: expected seconds >= 0 or a clock time HH:MM[:SS]")
        return seconds
    if start is None:
        raise InputError(f"--{name} {value!r}: the EDF header has no start time; give seconds instead")
    hours, minutes, seconds = int(match[1]), int(match[2]), float(match[3] or 0)
    if hours > 23 or minutes > 59 or seconds >= 60:
        raise InputError(f"--{name} {value!r}: not a clock time (expected HH:MM[:SS])")
    clock = hours * 3600 + minutes * 60 + seconds
    since_midnight = start.hour * 3600 + start.minute * 60 + start.second
    return (clock - since_midnight) % 86400.0


def read_night(path: str | Path, *, modality: str, channel: str | None = None, invert: bool | None = None,
               start: str | None = None, end: str | None = None, min_sfreq: float = 0.0,
               trained=None) -> RawNight:
    """Read the channel a ``modality`` model needs, oriented as training read it, cut to ``--start``/``--end``.

    ``trained`` is the checkpoint's training leads (:attr:`~sleep_kd.predict.scoring.Stager.leads`,
    see :func:`~sleep_kd.predict.channels.choose_channel`). InputError (one line naming the file)
    for: not an EDF, no such channel, a rate below ``min_sfreq`` Hz, a flat, NaN or vanishing
    signal, or a cut that leaves nothing.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    header = read_header(path)
    choice = choose_channel(header, modality=modality, channel=channel, invert=invert, trained=trained)
    signal, sfreq = read_signal(header, choice.spec)
    if sfreq + 1e-9 < min_sfreq:
        raise InputError(f"{path.name}: channel {choice.spec!r} is sampled at {sfreq:g} Hz, below the "
                         f"model's {min_sfreq:g} Hz")
    if choice.invert:
        signal = -signal
    first = parse_time(start, start=header.start, name="start") or 0.0
    last = parse_time(end, start=header.start, name="end")
    total_s = signal.size / sfreq
    last = total_s if last is None else min(last, total_s)
    if last <= first:
        raise InputError(f"{path.name}: --start {first:g} s / --end {last:g} s leave no signal "
                         f"(the recording lasts {total_s:g} s)")
    i0, i1 = int(round(first * sfreq)), int(round(last * sfreq))
    signal = signal[i0:i1]
    check_signal(signal, source=path.name, channel=choice.spec)
    clock = header.start + dt.timedelta(seconds=i0 / sfreq) if header.start is not None else None
    return RawNight(path, signal, float(sfreq), choice, i0 / sfreq, clock, total_s)


def prepare_windows(night: RawNight, *, sfreq: float, window_s: float, epoch_s: float,
                    normalization: str, first_s: float = 0.0) -> np.ndarray:
    """The normalised model windows of every whole epoch: (n_epochs, round(window_s * sfreq)) float32.

    The signal is resampled to ``sfreq`` Hz (and refused if it no longer carries a signal there:
    non-finite, flat or vanishing in float32); window ``k`` is centred on epoch ``k``,
    ``[first_s + k * epoch_s, first_s + (k + 1) * epoch_s)`` seconds from the cut start
    (``first_s``: where a scoring's epoch grid starts, :func:`sleep_kd.predict.agreement.grid_start`).
    A window longer than an epoch runs past the night's edges on the first and last epochs: the
    edge sample is repeated there (the cohort windows drop such epochs; a night to stage keeps every epoch).
    """
    if not epoch_s > 0:
        raise InputError(f"--epoch-s must be positive, got {epoch_s!r}")
    x = resample(night.signal, sfreq_in=night.sfreq, sfreq_out=sfreq)
    check_signal(x, source=night.path.name, channel=night.choice.spec, when=f"after resampling to {sfreq:g} Hz")
    n_epochs = int(np.floor((x.size / sfreq - first_s) / epoch_s + 1e-9))
    if n_epochs <= 0:
        raise InputError(f"{night.path.name}: {x.size / sfreq - first_s:g} s of signal is shorter than one "
                         f"{epoch_s:g} s epoch")
    n_times = int(round(window_s * sfreq))
    centre = first_s + (np.arange(n_epochs) + 0.5) * epoch_s
    starts = np.round((centre - window_s / 2) * sfreq).astype(np.int64)
    left = max(0, -int(starts[0]))
    right = max(0, int(starts[-1]) + n_times - x.size)
    padded = np.pad(x, (left, right), mode="edge") if left or right else x
    windows = sliding_window_view(padded, n_times)[starts + left]  # (n_epochs, n_times) gather: one copy
    windows = np.ascontiguousarray(windows, dtype=np.float32)
    return np.ascontiguousarray(normalize_rows(windows, normalization), dtype=np.float32)
