"""Ingest stores only signals that still carry information in the cohort's float32 at its rate."""

from pathlib import Path

import numpy as np
import pytest

from sleep_kd.data.cohort_file import EpochTable
from sleep_kd.data.ingest.pipeline import prepare_recording
from sleep_kd.data.ingest.sources import Night, RecordingRef
from sleep_kd.errors import InputError


class OneNight:
    """A source that reads ``night`` for any recording (what a source hands the pipeline)."""

    def __init__(self, night: Night) -> None:
        self.night = night

    def find(self, root: Path) -> list[RecordingRef]:
        return []

    def read(self, ref: RecordingRef) -> Night:
        return self.night


def test_a_signal_flat_once_resampled_to_float32_is_refused_not_stored(tmp_path):
    rng = np.random.default_rng(0)
    ecg = 1000.0 + 1e-6 * rng.normal(size=128 * 120)  # distinct in float64; float32's step at 1000 is 6e-5
    epochs = EpochTable(np.arange(4) * 30.0, np.full(4, 30.0), np.zeros(4, dtype=np.int8))
    night = Night(eeg=None, eeg_sfreq=None, ecg=ecg, ecg_sfreq=128.0, epochs=epochs, attrs={"ecg_derivation": "ECG"})
    signal_file = tmp_path / "dc.edf"
    signal_file.write_bytes(b"stands for the EDF: only hashed")
    ref = RecordingRef("dc", "dc", "", signal_file, tmp_path / "dc.csv")
    with pytest.raises(InputError) as error:
        prepare_recording(OneNight(night), ref, sfreq=64.0, root=tmp_path)
    # All but the filter's edges: the samples one value (float64's variation is below float32's step).
    assert str(error.value) == ("dc.edf: channel 'ECG' (after resampling to 64 Hz) is flat (7661 of its 7680 "
                                "samples equal 1000; a disconnected lead?)")
