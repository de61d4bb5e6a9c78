"""Any EDF night plus a hypnogram: EDF+ annotations (Sleep-EDF, HMC) or a CSV/text file.

Files are paired inside each folder: a hypnogram is an EDF whose name has a token such as
``Hypnogram`` or ``sleepscoring`` (``SC4001EC-Hypnogram.edf``, ``SN001-sleepscoring.edf``) or any
``.csv``/``.txt`` file; each signal EDF takes the hypnogram of the same night key, by the one rule
in :mod:`sleep_kd.data.ingest.pairing` (``SC4001E0-PSG.edf`` -> ``SC4001EC-Hypnogram.edf``,
``night3.edf`` -> ``Hypnogram_night3.txt``), never by a shared prefix. Channels are chosen by name.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from sleep_kd.data.ingest import edf_reader
from sleep_kd.data.ingest.hypnogram import read_annotation_stages, read_text_stages
from sleep_kd.data.ingest.pairing import SIGNAL_TOKENS, TEXT_SUFFIXES, is_hypnogram_file, pair_scorings
from sleep_kd.data.ingest.sources.base import Night, RecordingRef, register_source, unscored_epochs
from sleep_kd.data.stages import Stage, stage_code_map
from sleep_kd.errors import InputError

AASM_EPOCH_S = 30.0  # the scoring epoch of EDF+ annotations when none is given (s)


def check_seconds(value, flag: str) -> float:
    """``value`` as a positive, finite number of seconds, or InputError naming ``flag``."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not math.isfinite(seconds) or seconds <= 0:
        raise InputError(f"{flag} must be a positive number of seconds, got {value!r}")
    return seconds


# Sleep-EDF names nights SC4ssN / ST7ssN (ss = subject, N = night): keep a subject's nights together.
DEFAULT_SUBJECT_REGEX = r"^(S[CT]\d\d\d)\d"


def recording_id_of(path: Path) -> str:
    """The signal file's stem without a trailing ``-PSG``-like token: ``SC4001E0-PSG`` -> ``SC4001E0``."""
    stem = path.stem
    match = re.match(r"^(.*?)[\s_\-]+(" + "|".join(SIGNAL_TOKENS) + r")$", stem, flags=re.IGNORECASE)
    return match.group(1) if match else stem


@register_source("edf")
class EdfSource:
    """Adapter for EDF nights with a hypnogram file.

    Parameters
    ----------
    eeg : str, optional
        EEG channel name, or ``"A - B"`` for a derivation; without it nights are ECG-only.
    ecg : str, optional
        ECG channel name or derivation; without it nights are stored without ECG.
    invert_ecg : bool
        Multiply the ECG by -1 (leads recorded upside down).
    epoch_s : float, optional
        Line step of one-label-per-line text hypnograms (seconds). Such a file says nothing of its
        step, so without it one is refused, never read at a guessed 30 s.
    scoring_epoch_s : float, optional
        Scoring epoch: text hypnogram lines finer than it are merged into it; EDF+ stage
        annotations must each last a whole number of it (default: ``epoch_s``, else the AASM
        30 s, which an annotation of another length fails; never inferred from the annotations'
        durations).
    stage_codes : str, optional
        Numeric stage code map (:func:`sleep_kd.data.stages.stage_code_map`): a built-in name or
        ``"5=W,4=R,..."``; numeric hypnograms are refused without it.
    subject_regex : str
        Regex whose first group is the subject id in a recording id; no match -> the id itself.
    """

    def __init__(self, *, eeg: str | None = None, ecg: str | None = None, invert_ecg: bool = False,
                 epoch_s: float | None = None, scoring_epoch_s: float | None = None, stage_codes: str | None = None,
                 subject_regex: str = DEFAULT_SUBJECT_REGEX) -> None:
        if not eeg and not ecg:
            raise InputError("source 'edf' needs a channel: --eeg NAME (or 'A - B'), --ecg NAME, or both")
        self.eeg, self.ecg, self.invert_ecg = eeg or None, ecg or None, bool(invert_ecg)
        self.modalities = tuple(m for m, name in (("eeg", self.eeg), ("ecg", self.ecg)) if name)
        self.epoch_s = None if epoch_s is None else check_seconds(epoch_s, "--epoch-s")
        self.scoring_epoch_s = None if scoring_epoch_s is None else check_seconds(scoring_epoch_s, "--scoring-epoch-s")
        self.stage_codes = stage_codes
        self.codes = None if stage_codes is None else stage_code_map(stage_codes)
        try:
            re.compile(subject_regex)
        except re.error as error:
            raise InputError(f"--subject-regex {subject_regex!r} is not a valid regex ({error})") from None
        self.subject_regex = subject_regex

    @property
    def scoring_epoch(self) -> float:
        """The scoring epoch of annotation hypnograms and unscored nights (s): ``--scoring-epoch-s``,
        else ``--epoch-s``, else 30."""
        return self.scoring_epoch_s or self.epoch_s or AASM_EPOCH_S

    def subject_of(self, rid: str) -> str:
        """The subject id in a recording id (``--subject-regex``; no match: the id itself)."""
        match = re.match(self.subject_regex, rid)
        return match.group(1) if match and match.groups() else rid

    def find(self, root: Path) -> list[RecordingRef]:
        root = Path(root)
        files = sorted(p for p in root.rglob("*") if p.is_file())
        refs = []
        for folder in sorted({p.parent for p in files}):
            here = [p for p in files if p.parent == folder]
            hypnograms = [p for p in here if is_hypnogram_file(p)]
            signals = [p for p in here if p.suffix.lower() == ".edf" and p not in hypnograms]
            subset = folder.relative_to(root).as_posix()
            for signal, pairing in pair_scorings(signals, hypnograms).items():
                rid = recording_id_of(signal)
                missing = folder / f"{rid}-Hypnogram.edf"  # named in the skip message
                refs.append(RecordingRef(rid, self.subject_of(rid), subset, signal, pairing.scoring or missing,
                                         pairing_problem=pairing.problem))
        return sorted(refs, key=lambda ref: (ref.recording_id, str(ref.signal_file)))

    def read(self, ref: RecordingRef) -> Night:
        if ref.pairing_problem:
            raise InputError(f"{ref.signal_file.name}: {ref.pairing_problem}")
        if ref.scored and not ref.hypnogram_file.is_file():
            raise InputError(f"{ref.signal_file.name}: no hypnogram file of the same night next to it "
                             f"(expected e.g. {ref.recording_id}-Hypnogram.edf or {ref.recording_id}.csv; "
                             "other names: --manifest)")
        header = edf_reader.read_header(ref.signal_file)
        epochs = self._read_epochs(ref.hypnogram_file, header) if ref.scored else \
            unscored_epochs(header.duration_s, self.scoring_epoch)
        specs = [spec for spec in (self.eeg, self.ecg) if spec]
        signals = dict(zip(specs, edf_reader.read_signals(header, specs)))
        eeg, eeg_sfreq = signals.get(self.eeg, (None, None))
        ecg, ecg_sfreq = signals.get(self.ecg, (None, None))
        if ecg is not None and self.invert_ecg:
            ecg = -ecg
        standard = "R&K" if (epochs.stage == int(Stage.N4)).any() else "unknown"
        return Night(
            eeg=eeg, eeg_sfreq=eeg_sfreq, ecg=ecg, ecg_sfreq=ecg_sfreq, epochs=epochs,
            start_s=max(0.0, float(epochs.onset[0])),
            # Sleep-EDF hypnograms cover 24 h around a shorter signal: the excess is expected.
            epochs_past_end="drop",
            attrs={
                "standard": standard,
                "eeg_derivation": self.eeg or "",
                "ecg_derivation": (f"-1 * {self.ecg}" if self.invert_ecg else self.ecg) if self.ecg else "",
                "stage_codes": self.stage_codes or "",
            },
        )

    def _read_epochs(self, path: Path, header: edf_reader.EdfHeader):
        if path.suffix.lower() in TEXT_SUFFIXES:
            return read_text_stages(path, line_s=self.epoch_s, scoring_epoch_s=self.scoring_epoch,
                                    codes=self.codes)
        # A declared scoring epoch is checked against the annotations (each a whole number of it).
        epochs = read_annotation_stages(path, epoch_s=self.scoring_epoch, codes=self.codes)
        hyp_start = edf_reader.read_header(path).start
        if hyp_start is not None and header.start is not None:
            epochs = epochs.shifted((hyp_start - header.start).total_seconds())
        return epochs
