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

A lead is read the way the checkpoint's training read it (its config.json ``data.leads``, the leads
of the training split and whether ingest inverted each): MASS's ``ECG ECGI`` is inverted for a
model trained on a ``mass`` cohort (ingest multiplied it by -1) and read as recorded for one
trained on the same nights ingested with ``--source edf``. A lead training never saw is read as
recorded. ``--invert``/``--no-invert`` win over both. A checkpoint without the record (written
before it existed) keeps the old rule: MASS's ``ECG ECGI`` and ``ECG ECGII`` inverted, any other
lead as recorded. The printed choice says which rule decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from sleep_kd.data.ingest.edf_reader import EdfHeader, parse_derivation
from sleep_kd.errors import InputError

COMMON_NAMES: dict[str, tuple[str, ...]] = {
    "ecg": ("ECG", "EKG", "ECG II", "ECG ECGII", "ECG ECGI", "ECG I", "ECG1", "EKG1", "ECG ECG1", "ECG2",
            "EKG2", "ECG ECG2", "ECG L", "ECG R", "ECG L - ECG R"),
    "eeg": ("EEG C4-A1", "C4-A1", "EEG C3-A2", "C3-A2", "EEG C4-M1", "C4-M1", "EEG C3-M2", "C3-M2",
            "EEG C3-CLE - EEG A2-CLE", "EEG C4-CLE - EEG A1-CLE", "EEG C3-LER", "EEG Fpz-Cz", "Fpz-Cz",
            "EEG C4", "EEG C3", "C4", "C3"),
}
MASS_INVERTED = ("ECG ECGI", "ECG ECGII")  # stored inverted in MASS: the rule for checkpoints without data.leads


@dataclass(frozen=True)
class ChannelChoice:
    """The channel (or derivation ``"A - B"``, as header labels) read, whether it is inverted and why."""

    spec: str
    invert: bool
    searched: bool  # True when found by the search, False when given with --channel
    why: str = ""  # what decided the orientation

    def describe(self) -> str:
        how = "found by name search" if self.searched else "as given"
        return f"channel {self.spec!r} ({how}), {'inverted' if self.invert else 'read as recorded'}: {self.why}"


def lead_key(spec: str) -> tuple[str, ...]:
    """A lead's spelling-free identity: ``"ECG  ecgI"`` and ``"ECG ECGI"`` are one lead."""
    return tuple(" ".join(part.casefold().split()) for part in parse_derivation(spec) if part)


def orientation(spec: str, *, modality: str, invert: bool | None,
                trained: Mapping[tuple[str, ...], bool | None] | None) -> tuple[bool, str]:
    """Whether to invert lead ``spec``, and why.

    ``trained`` maps each training lead (:func:`lead_key`) to whether training inverted it (None:
    it read that lead both ways); None for a checkpoint that does not record its leads.
    """
    if invert is not None:
        return bool(invert), "--invert" if invert else "--no-invert"
    if trained is None:
        mass = modality == "ecg" and parse_derivation(spec)[0] in MASS_INVERTED
        return mass, ("the checkpoint does not record its training leads; MASS's ECG ECG... leads are inverted "
                      "as before" if mass else "the checkpoint does not record its training leads")
    key = lead_key(spec)
    if key not in trained:
        return False, "a lead training never saw" + (f" (it read {_names(trained)})" if trained else "")
    if trained[key] is None:
        raise InputError(f"lead {spec!r} was read both inverted and as recorded in this checkpoint's training; "
                         "pass --invert or --no-invert")
    return bool(trained[key]), "as training " + ("inverted this lead" if trained[key] else "read this lead")


def _names(trained: Mapping[tuple[str, ...], bool | None]) -> str:
    return ", ".join(" - ".join(key) for key in sorted(trained))


def _labels_of(header: EdfHeader, spec: str) -> str | None:
    """``spec`` spelled with the header's own labels, or None when a channel of it is absent."""
    folded = {label.strip().casefold(): label for label in header.labels}
    active, reference = parse_derivation(spec)
    parts = [folded.get(active.casefold())] + ([folded.get(reference.casefold())] if reference else [])
    if any(part is None for part in parts):
        return None
    return " - ".join(parts)


def choose_channel(header: EdfHeader, *, modality: str, channel: str | None = None, invert: bool | None = None,
                   trained: Mapping[tuple[str, ...], bool | None] | None = None) -> ChannelChoice:
    """The channel of ``header`` a ``modality`` model reads, and its orientation (:func:`orientation`).

    Parameters
    ----------
    modality : "ecg" or "eeg", the checkpoint's ``data.modality``.
    channel : a label or ``"A - B"``; InputError naming the file when it is absent.
    invert : True/False forces the sign; None reads the lead as training read it.
    trained : the checkpoint's training leads (:attr:`sleep_kd.predict.scoring.Stager.leads`); None
        for a checkpoint without them (MASS's ``ECG ECG...`` leads inverted, as before).
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
    try:
        invert, why = orientation(spec, modality=modality, invert=invert, trained=trained)
    except InputError as error:
        raise InputError(f"{header.path.name}: {error}") from None
    return ChannelChoice(spec=spec, invert=invert, searched=searched, why=why)
