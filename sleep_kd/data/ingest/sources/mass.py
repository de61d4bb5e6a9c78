"""MASS (Montreal Archive of Sleep Studies): subset folders SS1..SS5 of ``<id> PSG.edf`` + ``<id> Base.edf``.

Channel choices follow the original system (SEED_NOTES.md, "Data"): per-subset EEG derivation,
the first ``ECG ECG...`` lead (SS4: ``ECG ECGII``) multiplied by -1, signals cropped to the first
annotation, AASM 30 s and R&K 20 s epochs kept as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from sleep_kd.data.ingest import edf_reader
from sleep_kd.data.ingest.edf_reader import EdfHeader
from sleep_kd.data.ingest.hypnogram import read_annotation_stages
from sleep_kd.data.ingest.sources.base import Night, RecordingRef, register_source, unscored_epochs
from sleep_kd.errors import InputError

PSG_SUFFIX = " PSG.edf"
BASE_SUFFIX = " Base.edf"
STANDARD = {"SS1": "AASM", "SS3": "AASM", "SS2": "R&K", "SS4": "R&K", "SS5": "R&K"}
EPOCH_S = {"AASM": 30.0, "R&K": 20.0}  # each subset's scoring epoch, as MASS documents it (never guessed)
# EEG derivations to try, in order, per subset. SS2 nights lacking A2 use C4 against A1.
EEG_CHOICES = {
    "SS1": ("EEG C3-CLE - EEG A2-CLE",),
    "SS2": ("EEG C3-CLE - EEG A2-CLE", "EEG C4-CLE - EEG A1-CLE"),
    "SS3": ("EEG C3-LER",),
    "SS4": ("EEG C3-CLE - EEG A2-CLE",),
    "SS5": ("EEG C3-LER",),
}
ANY_SUBSET_EEG = ("EEG C3-CLE - EEG A2-CLE", "EEG C4-CLE - EEG A1-CLE", "EEG C3-LER")
ECG_CHOICE = {"SS4": "ECG ECGII"}
ECG_PREFIX = "ECG ECG"


def choose_eeg(header: EdfHeader, subset: str) -> str:
    """The EEG derivation the original system used for a night of ``subset``."""
    for spec in EEG_CHOICES.get(subset, ANY_SUBSET_EEG):
        names = edf_reader.parse_derivation(spec)
        if all(name is None or name in header.labels for name in names):
            return spec
    wanted = " or ".join(repr(s) for s in EEG_CHOICES.get(subset, ANY_SUBSET_EEG))
    raise InputError(f"{header.path.name}: no EEG channel {wanted} for MASS subset {subset}")


def choose_ecg(header: EdfHeader, subset: str) -> str:
    """SS4: ``ECG ECGII``; otherwise the first channel whose label starts with ``ECG ECG``."""
    if subset in ECG_CHOICE:
        return header.labels[header.find(ECG_CHOICE[subset])]
    for label in header.labels:
        if label.startswith(ECG_PREFIX):
            return label
    raise InputError(f"{header.path.name}: no ECG channel (expected a label starting with {ECG_PREFIX!r})")


def scoring_epoch_s(ref: RecordingRef) -> float:
    """The scoring epoch of a MASS night (s): 30 in the AASM subsets SS1 and SS3, 20 in the R&K ones."""
    standard = STANDARD.get(ref.subset)
    if standard is None:
        raise InputError(f"{ref.signal_file.name}: MASS subset {ref.subset!r} has no documented scoring epoch "
                         f"(SS1, SS3: 30 s AASM; SS2, SS4, SS5: 20 s R&K)")
    return EPOCH_S[standard]


@register_source("mass")
class MassSource:
    """Adapter for MASS; ``subsets`` limits the folders read (default: every ``SS*`` folder)."""

    def __init__(self, *, subsets: Sequence[str] | None = None) -> None:
        self.subsets = tuple(subsets) if subsets else None

    def find(self, root: Path) -> list[RecordingRef]:
        root = Path(root)
        refs = []
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name.upper().startswith("SS")):
            if self.subsets and folder.name not in self.subsets:
                continue
            for psg in sorted(folder.glob(f"*{PSG_SUFFIX}")):
                rid = psg.name[: -len(PSG_SUFFIX)]
                # MASS has one night per subject, so the recording id is the subject id.
                refs.append(RecordingRef(rid, rid, folder.name, psg, folder / f"{rid}{BASE_SUFFIX}"))
        return sorted(refs, key=lambda ref: ref.recording_id)

    def read(self, ref: RecordingRef) -> Night:
        if ref.scored and not ref.hypnogram_file.is_file():
            raise InputError(f"{ref.signal_file.name}: no matching annotation file {ref.hypnogram_file.name}")
        header = edf_reader.read_header(ref.signal_file)
        if ref.scored:
            base = edf_reader.read_header(ref.hypnogram_file)
            epochs = read_annotation_stages(ref.hypnogram_file, epoch_s=scoring_epoch_s(ref))
            if header.start is not None and base.start is not None:
                epochs = epochs.shifted((base.start - header.start).total_seconds())
        else:  # nobody scored it: the whole recording, in the subset's scoring epochs
            epochs = unscored_epochs(header.duration_s, scoring_epoch_s(ref))
        eeg_spec = choose_eeg(header, ref.subset)
        ecg_name = choose_ecg(header, ref.subset)
        (eeg, eeg_sfreq), (ecg, ecg_sfreq) = edf_reader.read_signals(header, [eeg_spec, ecg_name])
        return Night(
            eeg=eeg,
            eeg_sfreq=eeg_sfreq,
            ecg=-ecg,  # MASS ECG leads are recorded inverted
            ecg_sfreq=ecg_sfreq,
            epochs=epochs,
            start_s=float(epochs.onset[0]),
            epochs_past_end="error",
            attrs={
                "standard": STANDARD.get(ref.subset, "unknown"),
                "eeg_derivation": eeg_spec,
                "ecg_derivation": f"-1 * {ecg_name}",
            },
        )
