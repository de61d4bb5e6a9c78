"""A small synthetic cohort simulated straight into the cohort file: no EDF, so neither MNE nor edfio.

The GPU check (``bench/gpu.py``, ``tests/gpu``) runs where only PyTorch, Accelerate, h5py and
scikit-learn are installed. Its nights are the generator's own (``simulate_night``), brought to
the cohort schema as the MASS reader brings the same nights from their EDF files: the EEG
derivation of the night's montage (``C3 - A2``, ``C4 - A1`` or ``C3-LER``), the ECG lead
multiplied by -1 (MASS stores it inverted), both cropped to the first scored epoch and resampled
to the cohort rate, and the scorer's labels (``?`` as unscored). What EDF adds (16-bit
quantisation, the annotation file) is left out: the cohort is for timing and device checks, not
for figures of merit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# simulate_night's label codes (sleep_kd.data.synthetic.stages.LABELS: W 1 2 3 4 R ?) -> Stage codes
# (sleep_kd.data.stages.Stage: W=0, N1..N4=1..4, R=5, unscored=-2).
LABEL_TO_STAGE = np.array([0, 1, 2, 3, 4, 5, -2], dtype=np.int8)
SIMULATED_HZ = 256.0  # the generator's EDF rate: above 200 Hz, so the paper's rate can be stored
MICROVOLTS = {"uV": 1.0, "mV": 1e3}  # ingest stores every signal in microvolts
ECG_LEAD = {"SS4": "ECG ECGII"}  # the lead MASS's reader takes per subset (else ECG ECGI)


def eeg_derivation(channels: dict[str, np.ndarray]) -> tuple[str, np.ndarray]:
    """The night's EEG as the MASS reader derives it: ``(name, signal (n,) in microvolts)``."""
    if "EEG C3-LER" in channels:
        return "EEG C3-LER", channels["EEG C3-LER"]
    active, ear = ("EEG C3-CLE", "EEG A2-CLE") if "EEG C3-CLE" in channels else ("EEG C4-CLE", "EEG A1-CLE")
    return f"{active} - {ear}", channels[active] - channels[ear]


def night_recording(index: int, *, seed: int, hours: float, sfreq: float):
    """Subject ``index`` of the synthetic cohort ``seed`` as a :class:`StoredRecording` at ``sfreq`` Hz.

    Signals are float32 (n_samples,) in microvolts from the first scored epoch on; epochs hold onsets
    in s from that sample, the scoring epoch (20 s R&K, 30 s AASM) and the scored stages.
    """
    from sleep_kd.data.cohort_file import EpochTable, StoredRecording
    from sleep_kd.data.resampling import resample
    from sleep_kd.data.synthetic import plan_night, simulate_night

    plan = plan_night(index)
    night = simulate_night(plan, seed=seed, hours=hours, sfreq=SIMULATED_HZ)
    channels = {c.label: c.data * MICROVOLTS[c.unit] for c in night.channels}
    eeg_name, eeg = eeg_derivation(channels)
    ecg_name = ECG_LEAD.get(plan.subset, "ECG ECGI")
    first = int(round(night.start_offset_s * SIMULATED_HZ))
    signals = {name: resample(np.asarray(x[first:], dtype=np.float64), sfreq_in=SIMULATED_HZ, sfreq_out=sfreq)
               for name, x in (("eeg", eeg), ("ecg", -channels[ecg_name]))}
    n_samples = min(x.size for x in signals.values())
    onsets = night.onsets - first / SIMULATED_HZ
    epochs = EpochTable(onset=onsets, duration=np.full(onsets.size, plan.epoch_s),
                        stage=LABEL_TO_STAGE[np.asarray(night.scored)])
    inside = epochs.onset + epochs.duration <= n_samples / sfreq
    attrs = {"subject": plan.record_id, "subset": plan.subset, "standard": plan.standard,
             "eeg_derivation": eeg_name, "ecg_derivation": f"-1 * {ecg_name}",
             "source_file": f"simulated:{seed}:{index}", "duration_s": n_samples / sfreq}
    return StoredRecording(plan.record_id, signals["eeg"][:n_samples], signals["ecg"][:n_samples],
                           epochs.select(inside), attrs)


def write_cohort(path: str | Path, *, n_subjects: int, hours: float, sfreq: float, seed: int = 7) -> Path:
    """Simulate ``n_subjects`` nights of ``hours`` each and write them as one cohort file at ``sfreq`` Hz.

    A pooled split of 10 subjects gives 8 / 1 / 1 train / val / test nights. Returns ``path``.
    """
    from sleep_kd.data.cohort_file import CohortWriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    records = sorted((night_recording(i, seed=seed, hours=hours, sfreq=sfreq) for i in range(n_subjects)),
                     key=lambda record: record.recording_id)
    with CohortWriter(path, sfreq=sfreq, source="synthetic-direct") as writer:
        for record in records:
            writer.add(record)
    return path
