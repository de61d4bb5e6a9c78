"""Which EDF channel a checkpoint reads: ``--channel``, else a documented search over common names.

The search tries, in order, the names below (case-insensitively, as
:meth:`~sleep_kd.data.ingest.edf_reader.EdfHeader.find` matches). A name with ``" - "`` is a
derivation: both channels must exist. The first name found wins.

ECG: ``ECG``, ``EKG``, ``ECG II``, ``ECG ECGII`` (MASS SS4's lead), ``ECG ECGI`` (MASS), ``ECG I``,
``ECG1``, ``EKG1``, ``ECG ECG1`` (Nihon Kohden exports), ``ECG2``, ``EKG2``, ``ECG ECG2``, ``ECG L``,
``ECG R``, ``ECG L - ECG R``.

EEG: ``EEG C4-A1``, ``C4-A1``, ``EEG C3-A2``, ``C3-A2``, ``EEG C4-M1``, ``C4-M1``, ``EEG C3-M2``,
``C3-M2``, ``EEG C3-CLE - EEG A2-CLE`` (MASS), ``EEG C4-CLE - EEG A1-CLE`` (MASS), ``EEG C3-LER``
(MASS), ``EEG Fpz-Cz`` (Sleep-EDF), ``Fpz-Cz``, ``EEG C4``, ``EEG C3``, ``C4``, ``C3``.

MASS stores its ECG leads upside down (ingest's ``mass`` source multiplies them by -1), so MASS's
``ECG ECGI`` and ``ECG ECGII`` are inverted unless ``--no-invert`` is given; any other lead is read
as it is unless ``--invert`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from sleep_kd.data.ingest.edf_reader import EdfHeader, parse_derivation
from sleep_kd.errors import InputError

COMMON_NAMES: dict[str, tuple[str, ...]] = {
    "ecg": ("ECG", "EKG", "ECG II", "ECG ECGII", "ECG ECGI", "ECG I", "ECG1", "EKG1", "ECG ECG1", "ECG2",
            "EKG2", "ECG ECG2", "ECG L", "ECG R", "ECG L - ECG R"),
    "eeg": ("EEG C4-A1", "C4-A1", "EEG C3-A2", "C3-A2", "EEG C4-M1", "C4-M1", "EEG C3-M2", "C3-M2",
            "EEG C3-CLE - EEG A2-CLE", "EEG C4-CLE - EEG A1-CLE", "EEG C3-LER", "EEG Fpz-Cz", "Fpz-Cz",
            "EEG C4", "EEG C3", "C4", "C3"),
}
MASS_INVERTED = ("ECG ECGI", "ECG ECGII")  # stored inverted in MASS


@dataclass(frozen=True)
class ChannelChoice:
    """The channel (or derivation ``"A - B"``, as header labels) read, and whether it is inverted."""

    spec: str
    invert: bool
    searched: bool  # True when found by the search, False when given with --channel

    def describe(self) -> str:
        how = "found by name search" if self.searched else "as given"
        return f"channel {self.spec!r} ({how}{', inverted' if self.invert else ''})"


def _labels_of(header: EdfHeader, spec: str) -> str | None:
    """``spec`` spelled with the header's own labels, or None when a channel of it is absent."""
    folded = {label.strip().casefold(): label for label in header.labels}
    active, reference = parse_derivation(spec)
    parts = [folded.get(active.casefold())] + ([folded.get(reference.casefold())] if reference else [])
    if any(part is None for part in parts):
        return None
    return " - ".join(parts)


def choose_channel(header: EdfHeader, *, modality: str, channel: str | None = None,
                   invert: bool | None = None) -> ChannelChoice:
    """The channel of ``header`` a ``modality`` model reads.

    Parameters
    ----------
    modality : "ecg" or "eeg", the checkpoint's ``data.modality``.
    channel : a label or ``"A - B"``; InputError naming the file when it is absent.
    invert : True/False forces the sign; None inverts MASS's ``ECG ECG...`` leads only.
    """
    if modality not in COMMON_NAMES:
        raise InputError(f"checkpoint reads modality {modality!r}: expected one of {', '.join(COMMON_NAMES)}")
    if channel is not None:
        spec = _labels_of(header, channel)
        if spec is None:
            missing = [part for part in parse_derivation(channel) if part and _labels_of(header, part) is None]
            header.find(missing[0])  # raises the reader's one-line error listing the channels
        searched = False
    else:
        spec = next((found for name in COMMON_NAMES[modality] if (found := _labels_of(header, name))), None)
        if spec is None:
            shown = ", ".join(header.labels[:12]) + (", ..." if len(header.labels) > 12 else "")
            raise InputError(f"{header.path.name}: no {modality.upper()} channel among the common names "
                             f"(channels: {shown}); pass --channel NAME or --channel 'A - B'")
        searched = True
    if invert is None:
        invert = modality == "ecg" and parse_derivation(spec)[0] in MASS_INVERTED
    return ChannelChoice(spec=spec, invert=bool(invert), searched=searched)
