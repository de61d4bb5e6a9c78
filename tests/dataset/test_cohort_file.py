"""The cohort file module: which modalities a cohort holds, read by ingest and training alike."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from sleep_kd.data import cohort_file
from sleep_kd.data.cohort_file import CohortWriter, EpochTable, StoredRecording, cohort_modalities, require_modalities
from sleep_kd.data.dataset import CohortWindows
from sleep_kd.errors import InputError


def _write(path, *, eeg=True, ecg=True, n=2):
    table = EpochTable(np.array([0.0, 30.0]), np.array([30.0, 30.0]), np.array([0, 2], dtype=np.int8))
    signal = np.arange(6000, dtype=np.float32)
    with CohortWriter(path, sfreq=100.0, source="test") as writer:
        for i in range(n):
            writer.add(StoredRecording(f"r{i}", signal if eeg else None, signal if ecg else None, table, {}))
    return path


def test_cohort_file_records_its_modalities(tmp_path):
    assert cohort_modalities(_write(tmp_path / "both.h5")) == ("eeg", "ecg")
    assert cohort_modalities(_write(tmp_path / "ecg.h5", eeg=False)) == ("ecg",)
    with h5py.File(tmp_path / "ecg.h5") as handle:
        assert handle.attrs["modalities"] == "ecg" and "eeg" not in handle["recordings/r0"]


def test_files_written_before_the_attribute_are_answered_from_their_recordings(tmp_path):
    path = _write(tmp_path / "old.h5", eeg=False)
    with h5py.File(path, "a") as handle:
        del handle.attrs["modalities"]
    assert cohort_modalities(path) == ("ecg",)


def test_require_modalities_names_the_cohort_and_the_missing_signal(tmp_path):
    path = _write(tmp_path / "ecg.h5", eeg=False)
    require_modalities(path, ["ecg"], what="strategy ecg_base")
    with pytest.raises(InputError) as error:
        require_modalities(path, ["ecg", "eeg"], what="strategy kd_temp (teacher)")
    assert str(error.value) == (f"{path}: strategy kd_temp (teacher) needs EEG, but the cohort holds only ECG "
                                "(ingest it with --eeg and --ecg to store both)")


def test_windows_of_an_ecg_only_cohort_refuse_eeg_naming_the_cohort(tmp_path):
    path = _write(tmp_path / "ecg.h5", eeg=False)
    assert len(CohortWindows(path, n_classes=4, modalities=("ecg",))) == 4  # 2 recordings x 2 epochs
    with pytest.raises(InputError, match=r"ecg\.h5: EEG is needed but the cohort holds only ECG$"):
        CohortWindows(path, n_classes=4, modalities=("eeg", "ecg"))


def test_a_recording_without_any_signal_is_not_written(tmp_path):
    with pytest.raises(ValueError, match="holds no signal"):
        _write(tmp_path / "none.h5", eeg=False, ecg=False)
    assert not (tmp_path / "none.h5").exists()


def test_strategies_use_the_cohort_files_modalities():
    from sleep_kd.strategies import MODALITIES

    assert MODALITIES is cohort_file.MODALITIES
