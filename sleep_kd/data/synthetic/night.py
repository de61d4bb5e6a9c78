"""One synthetic night: hypnogram, scoring, and every channel of the PSG, in memory.

Subjects are laid out like MASS: subject ``index`` goes to subset SS1..SS5 in turn, and its
own random stream is derived from the cohort seed and ``index`` alone, so a subject is the
same night whatever the size of the cohort.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from . import ecg, eeg
from .edf_writer import Channel
from .hypnogram import simulate_hypnogram
from .noise import Timeline, band, shaped_noise
from .scorer import agreement, score_night, unscored_runs
from .stages import CELL_S, EPOCH_S, LABEL_UNSCORED, W, epoch_states, true_labels

SUBSETS = ("SS1", "SS2", "SS3", "SS4", "SS5")
STANDARD = {"SS1": "AASM", "SS2": "R&K", "SS3": "AASM", "SS4": "R&K", "SS5": "R&K"}
EEG_LIMIT_UV = 800.0
ECG_LIMIT_MV = 6.0


@dataclass(frozen=True)
class NightPlan:
    """Who a subject is in the cohort layout."""

    index: int
    subset: str
    night: int  # 1-based number within the subset
    record_id: str  # e.g. "01-02-0003"
    standard: str  # "AASM" or "R&K"
    montage: str  # "C3-CLE", "C4-CLE" or "C3-LER"

    @property
    def epoch_s(self) -> float:
        return EPOCH_S[self.standard]


def plan_night(index: int) -> NightPlan:
    """Subset, file id, scoring standard and EEG montage of subject ``index`` (0-based)."""
    subset = SUBSETS[index % len(SUBSETS)]
    night = index // len(SUBSETS) + 1
    if subset in ("SS3", "SS5"):
        montage = "C3-LER"
    elif subset == "SS2" and night % 2 == 0:
        montage = "C4-CLE"  # MASS SS2 has nights recorded with only C4 and A1
    else:
        montage = "C3-CLE"
    return NightPlan(index, subset, night, f"01-{SUBSETS.index(subset) + 1:02d}-{night:04d}",
                     STANDARD[subset], montage)


@dataclass
class Night:
    """A simulated night ready to be written."""

    plan: NightPlan
    channels: list[Channel]
    start_offset_s: float  # first scored epoch, seconds after the recording start
    true: np.ndarray  # (n_epochs,) label codes
    scored: np.ndarray  # (n_epochs,) label codes, LABEL_UNSCORED for "?"
    subject: dict
    beats: ecg.Beats | None = None  # true R-peak times (s from the recording start), for checks

    @property
    def onsets(self) -> np.ndarray:
        return self.start_offset_s + np.arange(len(self.true)) * self.plan.epoch_s

    @property
    def agreement(self) -> float:
        return agreement(self.true, self.scored)


def _timeline(state: np.ndarray, slow: np.ndarray, *, offset: float, n_samples: int,
              sfreq: float) -> Timeline:
    """Pad the scored night with wake cells before (lights-off) and after (lights-on)."""
    pre = int(np.ceil(offset / CELL_S))
    post = int(np.ceil((n_samples / sfreq - offset) / CELL_S)) - len(state) + 1
    state = np.concatenate([np.full(pre, W), state, np.full(max(post, 1), W)]).astype(np.int8)
    slow = np.concatenate([np.zeros(pre), slow, np.zeros(max(post, 1))])
    return Timeline(state, slow, offset - pre * CELL_S, n_samples, sfreq)


def _add_artefacts(rng: np.random.Generator, x: np.ndarray, spans: list[tuple[float, float]],
                   sfreq: float, level: float) -> None:
    """Movement artefacts: large slow swings plus muscle noise over each span (in place)."""
    for start, stop in spans:
        i, j = int(start * sfreq), min(int(stop * sfreq), len(x))
        if j - i < 8:
            continue
        slow = shaped_noise(rng, j - i, sfreq, band(0.3, 3.0, edge=0.3))
        fast = shaped_noise(rng, j - i, sfreq, band(20.0, 0.45 * sfreq, edge=4.0))
        x[i:j] += level * (slow + 0.4 * fast) * np.hanning(j - i).astype(np.float32) ** 0.2


def _eeg_channels(rng: np.random.Generator, plan: NightPlan, timeline: Timeline,
                  cortex: np.ndarray, cardiac: np.ndarray) -> list[Channel]:
    if plan.montage == "C3-LER":
        noise = 2.0 * shaped_noise(rng, len(cortex), timeline.sfreq, band(0.3, 0.45 * timeline.sfreq))
        return [Channel("EEG C3-LER", cortex + noise + 3.0 * cardiac, "uV", EEG_LIMIT_UV)]
    active, ear = ("EEG C3-CLE", "EEG A2-CLE") if plan.montage == "C3-CLE" else ("EEG C4-CLE", "EEG A1-CLE")
    # Referential recording: both electrodes carry the common-reference noise, which cancels in
    # the derivation active - ear.
    ref = eeg.reference_noise(rng, timeline, cardiac)
    return [Channel(active, cortex + ref, "uV", EEG_LIMIT_UV), Channel(ear, ref, "uV", EEG_LIMIT_UV)]


def _ecg_channels(rng: np.random.Generator, plan: NightPlan, timeline: Timeline,
                  subject: ecg.EcgSubject, beats: ecg.Beats, breath: np.ndarray,
                  spans: list[tuple[float, float]]) -> tuple[list[Channel], np.ndarray]:
    """ECG leads, stored inverted as in MASS; SS4's ECGI is a weak, noisy lead beside ECGII.

    Electrode-motion noise hits both leads at once; a lead comes off on its own.
    """
    duration = timeline.n_samples / timeline.sfreq
    noisy, lost = ecg.signal_troubles(rng, duration, subject)
    main = ecg.render(rng, timeline, subject, beats, breath, troubles=(noisy, lost))
    _add_artefacts(rng, main, spans, timeline.sfreq, 0.3)
    if plan.subset != "SS4":
        return [Channel("ECG ECGI", -main, "mV", ECG_LIMIT_MV)], main
    poor = ecg.render(rng, timeline, subject, beats, breath, lead_gain=0.25, noise_gain=3.0,
                      troubles=(noisy, ecg.signal_troubles(rng, duration, subject)[1]))
    _add_artefacts(rng, poor, spans, timeline.sfreq, 0.5)
    return [Channel("ECG ECGI", -poor, "mV", ECG_LIMIT_MV),
            Channel("ECG ECGII", -main, "mV", ECG_LIMIT_MV)], main


def simulate_night(plan: NightPlan, *, seed: int, hours: float, sfreq: float) -> Night:
    """Simulate subject ``plan.index`` of the cohort drawn with ``seed``."""
    streams = [np.random.default_rng(s) for s in
               np.random.SeedSequence(seed, spawn_key=(plan.index,)).spawn(5)]
    r_hyp, r_score, r_eeg, r_ecg, r_other = streams
    cells_per_epoch = int(round(plan.epoch_s / CELL_S))
    n_epochs = int(hours * 3600.0 // plan.epoch_s)
    night = simulate_hypnogram(r_hyp, hours=n_epochs * plan.epoch_s / 3600.0)
    state, slow = night.state[: n_epochs * cells_per_epoch], night.slow_wave[: n_epochs * cells_per_epoch]
    offset = round(r_hyp.uniform(20.0, 180.0) * 4.0) / 4.0  # quarter seconds, as MASS onsets vary
    duration = int(np.ceil(offset + n_epochs * plan.epoch_s + r_hyp.uniform(10.0, 60.0)))
    timeline = _timeline(state, slow, offset=offset, n_samples=duration * int(sfreq), sfreq=sfreq)

    ep_state, ep_slow = epoch_states(state, slow, cells_per_epoch=cells_per_epoch)
    true = true_labels(ep_state, ep_slow, standard=plan.standard)
    runs = unscored_runs(r_score, n_epochs, hours=hours)
    scored = score_night(r_score, true, slow_wave=ep_slow, unscored=runs, standard=plan.standard)
    spans = [(offset + a * plan.epoch_s, offset + b * plan.epoch_s) for a, b in runs[1:]]

    heart = ecg.EcgSubject.draw(r_ecg)
    beat_hz, breath = ecg.heart_rate(r_ecg, timeline, heart)
    beats = ecg.add_ectopic_beats(r_ecg, ecg.beat_times(r_ecg, beat_hz), heart)
    ecg_channels, lead = _ecg_channels(r_ecg, plan, timeline, heart, beats, breath, spans)

    brain = eeg.EegSubject.draw(r_eeg)
    cortex = eeg.cortex(r_eeg, timeline, brain)
    _add_artefacts(r_eeg, cortex, spans, sfreq, 120.0)
    eeg_channels = _eeg_channels(r_other, plan, timeline, cortex, lead)
    eog = Channel("EOG Left Horiz", eeg.eog(r_other, timeline), "uV", EEG_LIMIT_UV)
    emg = Channel("EMG Chin", eeg.chin_emg(r_other, timeline), "uV", EEG_LIMIT_UV / 2)
    # Mixed order, so readers have to pick channels by name.
    channels = [eog, eeg_channels[0], *ecg_channels, emg, *eeg_channels[1:]]
    subject = {"eeg": asdict(brain), "ecg": asdict(heart)}
    return Night(plan, channels, offset, true, scored, subject, beats)


def n_unscored(night: Night) -> int:
    return int(np.sum(night.scored == LABEL_UNSCORED))
