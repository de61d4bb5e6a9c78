"""NSRR cohorts (SHHS, MESA, CHAT, CFS, MrOS...): ``polysomnography/edfs/<stem>.edf`` + ``<stem>-nsrr.xml``.

Layout of a download from sleepdata.org (``--root`` is the cohort folder or its
``polysomnography`` folder; visit subfolders such as ``edfs/shhs1/`` are searched too)::

    polysomnography/edfs/shhs1-200001.edf
    polysomnography/annotations-events-nsrr/shhs1-200001-nsrr.xml

File stems are ``<cohort><visit>-<id>`` or ``<cohort>-<visit>-<id>``: the recording id is the stem,
the subset the stem without its id (``shhs1``, ``mesa-sleep``), the subject ``<cohort>-<id>`` so
that the visits of one participant stay in one split. Channels are chosen from a per-cohort alias
table (the first present wins), overridden by ``--eeg``/``--ecg``; the name chosen is stored per
recording (``eeg_derivation``, ``ecg_derivation``).
"""

from __future__ import annotations

import re
from pathlib import Path

from sleep_kd.data.cohort_file import MODALITIES
from sleep_kd.data.ingest import edf_reader
from sleep_kd.data.ingest.nsrr_annotations import read_nsrr_stages
from sleep_kd.data.ingest.sources.base import Night, RecordingRef, register_source, unscored_epochs
from sleep_kd.data.stages import Stage
from sleep_kd.errors import InputError

EDF_FOLDER = "edfs"
ANNOTATION_FOLDER = "annotations-events-nsrr"
ANNOTATION_SUFFIX = "-nsrr.xml"
# Channel names per cohort, in order of preference; "A - B" is a derivation. SHHS and MESA follow
# the NSRR channel notes (SHHS: EEG = C4-A1, EEG(sec) = C3-A2, renamed across visits; MESA: EEG3 =
# C4-M1). CHAT, CFS and MrOS store referential channels (C4, M1...) in most files; their entries
# are the NSRR names as documented, and a file that differs is skipped naming what was tried.
CHANNEL_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "shhs": {"eeg": ("EEG", "EEG(sec)", "EEG 2", "EEG2", "EEG sec"), "ecg": ("ECG", "EKG")},
    "mesa": {"eeg": ("EEG3", "EEG1", "EEG2"), "ecg": ("EKG", "ECG")},
    "chat": {"eeg": ("C4-M1", "C4 - M1", "C3-M2", "C3 - M2"), "ecg": ("ECG1 - ECG2", "ECG", "EKG")},
    "cfs": {"eeg": ("C4-M1", "C4 - M1", "C3-M2", "C3 - M2"), "ecg": ("ECG1 - ECG2", "ECG", "EKG")},
    "mros": {"eeg": ("C4-A1", "C4 - A1", "C3-A2", "C3 - A2"), "ecg": ("ECG L - ECG R", "ECG", "EKG")},
}
ANY_COHORT = {m: tuple(dict.fromkeys(name for table in CHANNEL_ALIASES.values() for name in table[m]))
              for m in MODALITIES}


def cohort_of(stem: str) -> str:
    """The cohort name of a file stem: ``shhs1-200001`` -> ``shhs``, ``mesa-sleep-0001`` -> ``mesa``."""
    match = re.match(r"[a-z]+", stem.lower())
    return match.group(0) if match else stem.lower()


def _polysomnography(root: Path) -> Path:
    for folder in (root, root / "polysomnography"):
        if (folder / EDF_FOLDER).is_dir():
            return folder
    raise InputError(f"{root}: no NSRR layout here (expected polysomnography/{EDF_FOLDER}/ and "
                     f"polysomnography/{ANNOTATION_FOLDER}/)")


@register_source("nsrr")
class NsrrSource:
    """Adapter for NSRR downloads.

    Parameters
    ----------
    eeg, ecg : str, optional
        Channel (or ``"A - B"``) overriding the cohort's alias table for every night.
    invert_ecg : bool
        Multiply the ECG by -1.
    modalities : sequence of {"eeg", "ecg"}, optional
        Signals to store (default both); ``("ecg",)`` makes an ECG-only cohort. Passing ``--ecg``
        without ``--eeg`` also means ECG only, as in the ``edf`` source.
    """

    def __init__(self, *, eeg: str | None = None, ecg: str | None = None, invert_ecg: bool = False,
                 modalities=None) -> None:
        if modalities is None:
            modalities = ("ecg",) if ecg and not eeg else MODALITIES
        unknown = [m for m in modalities if m not in MODALITIES]
        if unknown or not modalities:
            raise InputError(f"--modalities {' '.join(modalities)}: expected eeg, ecg or both")
        self.modalities = tuple(m for m in MODALITIES if m in modalities)
        if eeg and "eeg" not in self.modalities:
            raise InputError(f"--eeg {eeg!r} given but --modalities {' '.join(self.modalities)} leaves EEG out")
        self.overrides = {"eeg": eeg, "ecg": ecg}
        self.invert_ecg = bool(invert_ecg)

    def subject_of(self, rid: str) -> str:
        """``<cohort>-<id>``: the participant, the same across visits."""
        return f"{cohort_of(rid)}-{re.split(r'[-_]', rid)[-1]}"

    def find(self, root: Path) -> list[RecordingRef]:
        poly = _polysomnography(Path(root))
        annotations: dict[str, Path] = {}
        if (poly / ANNOTATION_FOLDER).is_dir():
            for xml in sorted((poly / ANNOTATION_FOLDER).rglob(f"*{ANNOTATION_SUFFIX}")):
                annotations.setdefault(xml.name[: -len(ANNOTATION_SUFFIX)], xml)
        refs = []
        for edf in sorted(p for p in (poly / EDF_FOLDER).rglob("*") if p.suffix.lower() == ".edf" and p.is_file()):
            rid = edf.stem
            expected = poly / ANNOTATION_FOLDER / edf.parent.relative_to(poly / EDF_FOLDER) / f"{rid}{ANNOTATION_SUFFIX}"
            subset = rid.rsplit("-", 1)[0] if "-" in rid else cohort_of(rid)
            refs.append(RecordingRef(rid, self.subject_of(rid), subset, edf, annotations.get(rid, expected)))
        return sorted(refs, key=lambda ref: ref.recording_id)

    def choose(self, header: edf_reader.EdfHeader, modality: str, cohort: str) -> str:
        """The channel (or derivation) read for ``modality``: the override, else the first alias present."""
        if self.overrides[modality]:
            return self.overrides[modality]
        aliases = CHANNEL_ALIASES.get(cohort, ANY_COHORT)[modality]
        folded = {label.casefold() for label in header.labels}
        for spec in aliases:
            if all(name is None or name.casefold() in folded for name in edf_reader.parse_derivation(spec)):
                return spec
        tried = ", ".join(repr(a) for a in aliases)
        raise InputError(f"{header.path.name}: no {modality.upper()} channel for cohort {cohort} (tried {tried}; "
                         f"pass --{modality} NAME)")

    def read(self, ref: RecordingRef) -> Night:
        if ref.scored and not Path(ref.hypnogram_file).is_file():
            raise InputError(f"{ref.signal_file.name}: no annotation file {Path(ref.hypnogram_file).name} "
                             f"(expected in polysomnography/{ANNOTATION_FOLDER}/)")
        header = edf_reader.read_header(ref.signal_file)
        epochs = read_nsrr_stages(ref.hypnogram_file) if ref.scored else unscored_epochs(header.duration_s, 30.0)
        cohort = cohort_of(ref.recording_id)
        specs = {m: self.choose(header, m, cohort) for m in self.modalities}
        signals = dict(zip(specs, edf_reader.read_signals(header, list(specs.values()))))
        eeg, eeg_sfreq = signals.get("eeg", (None, None))
        ecg, ecg_sfreq = signals.get("ecg", (None, None))
        if ecg is not None and self.invert_ecg:
            ecg = -ecg
        ecg_name = specs.get("ecg", "")
        return Night(
            eeg=eeg, eeg_sfreq=eeg_sfreq, ecg=ecg, ecg_sfreq=ecg_sfreq, epochs=epochs, start_s=0.0,
            # NSRR scoring may run a few epochs past the last data record; most past it is refused.
            epochs_past_end="drop",
            attrs={
                "standard": "R&K" if (epochs.stage == int(Stage.N4)).any() else "unknown",
                "cohort": cohort,
                "eeg_derivation": specs.get("eeg", ""),
                "ecg_derivation": f"-1 * {ecg_name}" if ecg_name and self.invert_ecg else ecg_name,
            },
        )
