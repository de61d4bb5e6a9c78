"""Read single channels (or bipolar derivations) from EDF files, checking what users get wrong.

We parse the fixed EDF header ourselves: it tells each channel's own sampling rate (MNE resamples
mixed-rate channels to the fastest one) and lets us catch a truncated file before MNE pads it
silently. The samples themselves are read with MNE via ``include=``, one read per sampling rate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sleep_kd.errors import InputError

_HEADER_BYTES = 256
_SIGNAL_FIELDS = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)  # widths of the per-signal header fields
_DERIVATION_SEP = " - "
_ANNOTATION_LABEL = "EDF Annotations"
# Data records of an EDF+D file must start this close to where a continuous file's would (s).
_RECORD_TOLERANCE_S = 1e-3
# A signal is flat when more than this fraction of its samples hold one value (then the median):
# a lead that came off for most of the night, with a spike or two, is as useless as a constant one,
# while a real EEG or ECG digitised at EDF's 16 bits never repeats one value in half its samples.
FLAT_FRACTION = 0.5
# Windows and cohort files hold float32: a signal whose largest magnitude is below float32's smallest
# normal number keeps too few bits to mean anything (or is 0); one near float32's largest overflows
# once resampled or normalised (the margin leaves room for the resampler's filter and a window's span).
SMALLEST_AMPLITUDE = float(np.finfo(np.float32).tiny)
LARGEST_AMPLITUDE = float(np.finfo(np.float32).max) / 1e6


@dataclass(frozen=True)
class EdfHeader:
    """What the EDF header says: channel labels, per-channel rates (Hz), start, duration (s)."""

    path: Path
    labels: tuple[str, ...]
    sfreqs: tuple[float, ...]
    start: dt.datetime | None
    duration_s: float
    # Per channel: (physical min, physical max, digital min, digital max); None where unparsable.
    scaling: tuple[tuple[float, float, float, float] | None, ...] = ()
    # EDF+D whose data records were checked to follow each other without a gap (read as continuous).
    discontinuous: bool = False

    def find(self, name: str) -> int:
        """Index of channel ``name`` (exact, else case-insensitive); InputError if absent."""
        if name in self.labels:
            return self.labels.index(name)
        folded = [label.casefold() for label in self.labels]
        if name.strip().casefold() in folded:
            return folded.index(name.strip().casefold())
        shown = ", ".join(self.labels[:12]) + (", ..." if len(self.labels) > 12 else "")
        raise InputError(f"{self.path.name}: no channel {name!r} (channels: {shown})")


def _field(raw: bytes, start: int, width: int) -> str:
    return raw[start:start + width].decode("latin-1").strip()


def _parse_start(date: str, time: str) -> dt.datetime | None:
    try:
        day, month, year = (int(part) for part in date.split("."))
        hour, minute, second = (int(part) for part in time.replace(":", ".").split("."))
        # EDF's two-digit year: 85-99 are 1985-1999, the rest 2000-2084 (EDF spec's clipping).
        return dt.datetime(year + (1900 if year >= 85 else 2000), month, day, hour, minute, second)
    except ValueError:
        return None


def read_header(path: Path) -> EdfHeader:
    """Parse and check an EDF/EDF+ header; InputError for a non-EDF or truncated file."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            head = stream.read(_HEADER_BYTES)
            n_signals = int(_field(head, 252, 4))
            signal_head = stream.read(n_signals * _HEADER_BYTES)
        header_bytes = int(_field(head, 184, 8))
        n_records = int(_field(head, 236, 8))
        record_s = float(_field(head, 244, 8))
    except (OSError, ValueError):
        raise InputError(f"{path.name}: not a readable EDF file (bad or missing header)") from None
    if len(head) < _HEADER_BYTES or n_signals < 0 or len(signal_head) < n_signals * _HEADER_BYTES:
        raise InputError(f"{path.name}: not a readable EDF file (header cut short)")
    if header_bytes != _HEADER_BYTES * (n_signals + 1):
        raise InputError(
            f"{path.name}: inconsistent EDF header: its size field says {header_bytes} bytes, expected "
            f"{_HEADER_BYTES * (n_signals + 1)} for {n_signals} signals"
        )
    offsets = np.cumsum((0,) + tuple(w * n_signals for w in _SIGNAL_FIELDS))
    labels = tuple(_field(signal_head, offsets[0] + 16 * i, 16) for i in range(n_signals))
    try:
        per_record = [int(_field(signal_head, offsets[8] + 8 * i, 8)) for i in range(n_signals)]
    except ValueError:
        raise InputError(f"{path.name}: not a readable EDF file (bad samples-per-record field)") from None
    record_bytes = 2 * sum(per_record)
    available = path.stat().st_size - header_bytes
    if n_records < 0 and record_bytes:  # -1 = "unknown" while recording; trust the file size
        n_records = available // record_bytes
    if available < n_records * record_bytes:
        raise InputError(
            f"{path.name}: truncated EDF file ({available} data bytes, header promises "
            f"{n_records * record_bytes})"
        )
    if record_bytes and available >= (n_records + 1) * record_bytes:
        # MNE would silently read them all: the header and the data disagree on the duration.
        raise InputError(
            f"{path.name}: inconsistent EDF header: it says {n_records} data records but the file "
            f"holds {available // record_bytes} ({available} data bytes of {record_bytes} each)"
        )
    sfreqs = tuple(n / record_s if record_s > 0 else 0.0 for n in per_record)
    start = _parse_start(_field(head, 168, 8), _field(head, 176, 8))
    scaling = tuple(_scaling(signal_head, offsets, i) for i in range(n_signals))
    discontinuous = _field(head, 192, 44).upper().startswith("EDF+D")
    if discontinuous:
        _check_no_gaps(path, labels, per_record, header_bytes=header_bytes, n_records=n_records, record_s=record_s)
    return EdfHeader(path, labels, sfreqs, start, n_records * record_s, scaling, discontinuous)


def _record_onset(tal: bytes) -> float | None:
    """The onset of a data record: its first TAL, ``+<seconds>\x14\x14``; None when unreadable."""
    try:
        return float(tal.split(b"\x14", 1)[0].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None


def _check_no_gaps(path: Path, labels, per_record, *, header_bytes: int, n_records: int, record_s: float) -> None:
    """InputError unless every data record of an EDF+D file starts where a continuous one would.

    EDF+D stores recordings with gaps; each data record's first annotation gives its start. Read
    as continuous, every epoch after a gap would be stored against the wrong samples, so a file
    with a real gap is refused (one that only declares EDF+D is read as it is).
    """
    if _ANNOTATION_LABEL not in labels:
        raise InputError(f"{path.name}: EDF+D (discontinuous) file without an '{_ANNOTATION_LABEL}' signal: "
                         "its record times are unknown")
    index = labels.index(_ANNOTATION_LABEL)
    offset, width, record_bytes = 2 * sum(per_record[:index]), 2 * per_record[index], 2 * sum(per_record)
    with path.open("rb") as stream:
        for record in range(n_records):
            stream.seek(header_bytes + record * record_bytes + offset)
            onset = _record_onset(stream.read(width))
            expected = record * record_s
            if onset is None or abs(onset - expected) > _RECORD_TOLERANCE_S:
                found = "no readable start" if onset is None else f"starts at {onset:g} s"
                raise InputError(
                    f"{path.name}: EDF+D (discontinuous) file: data record {record} {found}, expected {expected:g} s "
                    "for continuous data; refused, since reading across the gap would shift every later epoch "
                    "(split the file at its gaps or export it as EDF+C)")


def _scaling(signal_head: bytes, offsets, i: int) -> tuple[float, float, float, float] | None:
    """Physical and digital min/max of signal ``i`` (fields 3 to 6), None if one is not a number."""
    try:
        return tuple(float(_field(signal_head, offsets[k] + 8 * i, 8)) for k in (3, 4, 5, 6))
    except ValueError:
        return None


def check_scaling(header: EdfHeader, name: str) -> None:
    """InputError when channel ``name``'s header cannot scale its samples to physical units.

    MNE replaces a zero range by 1 and reads on: the samples would come out silently wrong.
    """
    index = header.labels.index(name)
    if index >= len(header.scaling):
        return
    scaling = header.scaling[index]
    if scaling is None:
        raise InputError(f"{header.path.name}: channel {name!r} has a non-numeric physical or digital "
                         "min/max in the EDF header")
    phys_min, phys_max, dig_min, dig_max = scaling
    if dig_min >= dig_max:
        raise InputError(f"{header.path.name}: channel {name!r} has digital minimum {dig_min:g} >= maximum "
                         f"{dig_max:g} in the EDF header (expected minimum < maximum)")
    if phys_min == phys_max:
        raise InputError(f"{header.path.name}: channel {name!r} has physical minimum = maximum = {phys_min:g} "
                         "in the EDF header (expected a range)")


def parse_derivation(spec: str) -> tuple[str, str | None]:
    """Split ``"A - B"`` into ``("A", "B")``; a bare channel name gives ``(name, None)``."""
    if _DERIVATION_SEP in spec:
        active, reference = spec.split(_DERIVATION_SEP, 1)
        return active.strip(), reference.strip()
    return spec.strip(), None


def _read_channels(header: EdfHeader, names: list[str]) -> np.ndarray:
    """Channels ``names`` of one EDF file, (len(names), n_samples) float64 microvolts.

    Not preloaded: ``get_data`` then reads the samples straight into the one array returned,
    where a preload would fill MNE's own buffer first and copy out of it (1.5x slower on 8-h
    nights; docs/speed.md).
    """
    import mne

    try:
        raw = mne.io.read_raw_edf(str(header.path), include=names, preload=False, verbose="error")
        data = raw.get_data(picks=names)
    except Exception as error:  # MNE raises several types on malformed files
        raise InputError(f"{header.path.name}: MNE cannot read {names} ({error})") from None
    data *= 1e6  # MNE scales EDF physical units to volts; store microvolts
    return data


def read_signal(header: EdfHeader, spec: str) -> tuple[np.ndarray, float]:
    """Read one channel or derivation ``"A - B"`` at its own rate.

    Returns
    -------
    signal : np.ndarray of float64, shape (n_samples,)
        Microvolts for channels in volts-based units.
    sfreq : float
        Hz, the channel's original rate.
    """
    return read_signals(header, [spec])[0]


def _channels_of(header: EdfHeader, spec: str) -> list[str]:
    """The header labels a channel or derivation ``spec`` needs, checked to share one rate."""
    active, reference = parse_derivation(spec)
    names = [header.labels[header.find(active)]]
    if reference is not None:
        names.append(header.labels[header.find(reference)])
        rates = {header.sfreqs[header.labels.index(name)] for name in names}
        if len(rates) > 1:
            raise InputError(
                f"{header.path.name}: cannot derive {spec!r}: channels sampled at "
                f"{sorted(rates)} Hz"
            )
    for name in names:
        check_scaling(header, name)
    return names


def read_signals(header: EdfHeader, specs: list[str]) -> list[tuple[np.ndarray, float]]:
    """Read several channels or derivations, each at its own rate (see :func:`read_signal`).

    Channels sharing a sampling rate come from one MNE read (one pass over the file); MNE
    would resample a mixed-rate read to the fastest rate, so each rate gets its own read.
    """
    wanted = [_channels_of(header, spec) for spec in specs]
    by_rate: dict[float, list[str]] = {}
    for names in wanted:
        for name in names:
            group = by_rate.setdefault(header.sfreqs[header.labels.index(name)], [])
            if name not in group:
                group.append(name)
    rows: dict[str, np.ndarray] = {}
    for names in by_rate.values():
        rows.update(zip(names, _read_channels(header, names)))
    out = []
    for spec, names in zip(specs, wanted):
        signal = rows[names[0]] - rows[names[1]] if len(names) == 2 else rows[names[0]]
        check_signal(signal, source=header.path.name, channel=spec)
        out.append((signal, float(header.sfreqs[header.labels.index(names[0])])))
    return out


def check_signal(signal: np.ndarray, *, source: str, channel: str, when: str = "") -> None:
    """InputError for an empty, non-finite, flat or vanishing signal, or one beyond float32.

    Flat: constant, or more than :data:`FLAT_FRACTION` of the samples equal to one value (which
    is then the median): a disconnected lead with a few spikes counts as flat. Windows and cohort
    files hold float32: a signal whose magnitude never reaches :data:`SMALLEST_AMPLITUDE` is zeros
    there (an EDF header whose physical range is +-1e-50), one past :data:`LARGEST_AMPLITUDE`
    overflows. Ingest and ``sleep_kd.predict`` call this on the signal read and again on it
    resampled to float32 (``when`` says which, e.g. ``"after resampling to 100 Hz"``), where a
    variation finer than float32's resolution leaves a flat signal.
    """
    where = f"{source}: channel {channel!r}" + (f" ({when})" if when else "")
    if signal.size == 0:
        raise InputError(f"{where} holds no samples")
    low, high = float(np.min(signal)), float(np.max(signal))  # a NaN makes both NaN
    if not (np.isfinite(low) and np.isfinite(high)):
        raise InputError(f"{where} holds NaN or infinite values")
    if high == low:
        raise InputError(f"{where} is flat (constant {low:g})")
    magnitude = max(abs(low), abs(high))
    if not SMALLEST_AMPLITUDE <= magnitude <= LARGEST_AMPLITUDE:
        raise InputError(f"{where} " + (f"never exceeds {magnitude:.3g} in magnitude, below" if magnitude < 1
                                        else f"reaches {magnitude:.3g} in magnitude, beyond")
                         + " what float32 windows hold (the EDF header's physical range or units?)")
    median = np.median(signal)
    count = int(np.count_nonzero(signal == median))
    if count > FLAT_FRACTION * signal.size:
        raise InputError(f"{where} is flat ({count} of its {signal.size} samples equal "
                         f"{median:g}; a disconnected lead?)")


def sha256_file(path: Path, *, block_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, hashed from its memory map (the page cache: no copy in the process).

    One ``update`` over the whole map releases the GIL for all of it, so a thread hashing the
    source runs beside MNE's read on another core (``pipeline.prepare_recording``). Files that
    cannot be mapped (empty, or on a file system without mmap) are read in blocks instead.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        try:
            with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                digest.update(mapped)
        except (ValueError, OSError):
            stream.seek(0)
            for block in iter(lambda: stream.read(block_bytes), b""):
                digest.update(block)
    return digest.hexdigest()
