"""CohortWindows: which epochs become items, window placement, resampling, normalisation, errors."""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pytest
import torch
from scipy.signal import resample_poly
from torch.utils.data import DataLoader

from sleep_kd.data.dataset import CohortWindows, normalize
from sleep_kd.data.cohort_file import EpochTable
from sleep_kd.data.cohort_file import CohortWriter, StoredRecording
from sleep_kd.errors import InputError

FS = 100.0


def _recording(rid, stages, epoch_s, *, seconds, ecg=True, subject=None):
    n = int(seconds * FS)
    ramp = np.arange(n, dtype=np.float32)  # sample index as value: windows show where they start
    onsets = np.arange(len(stages)) * float(epoch_s)
    table = EpochTable(onsets, np.full(len(stages), float(epoch_s)), np.array(stages, dtype=np.int8))
    return StoredRecording(rid, ramp, -ramp if ecg else None, table, {"subject": subject or rid})


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    path = tmp_path_factory.mktemp("cohort") / "c.h5"
    with CohortWriter(path, sfreq=FS, source="test") as writer:
        # AASM: 5 epochs, one movement (-1) and one unscored (-2).
        writer.add(_recording("a", [0, 1, -1, 3, -2], 30, seconds=150, subject="s1"))
        # R&K: 6 epochs of 20 s; windows of 30 s drop the first and last.
        writer.add(_recording("b", [0, 2, 4, 5, 5, 1], 20, seconds=120, subject="s2"))
        writer.add(_recording("c", [0, 5], 30, seconds=60, ecg=False, subject="s2"))
    return path


def test_items_are_scorable_epochs_with_windows_inside_the_signal(cohort):
    ds = CohortWindows(cohort, n_classes=4, recordings=["a", "b"], normalization="none")
    assert ds.recordings == ["a", "b"] and ds.subjects == ["s1", "s2"]
    assert ds.labels.tolist() == [0, 1, 2, 1, 2, 3, 3]  # a: W N1 N3; b: N2 N4 R R
    assert len(ds) == 7 and ds.n_times == 3000 and ds.class_names == ("W", "Light", "Deep", "REM")
    item = ds[3]
    assert item["eeg"].shape == (1, 3000) and item["eeg"].dtype == torch.float32
    assert int(item["recording"]) == 1 and int(item["epoch"]) == 1 and int(item["label"]) == 1
    # R&K epoch 1 spans 20-40 s; its 30 s window starts 5 s earlier, at 15 s.
    assert item["eeg"][0, 0] == 15 * FS and item["eeg"][0, -1] == 45 * FS - 1
    assert torch.equal(item["ecg"], -item["eeg"])
    assert ds[0]["eeg"][0, 0] == 0 and ds[2]["eeg"][0, 0] == 90 * FS


def test_three_classes_and_minmax_windows(cohort):
    ds = CohortWindows(cohort, n_classes=3, recordings=["a"], modalities=("eeg",))
    assert ds.labels.tolist() == [0, 1, 1]
    window = ds[1]["eeg"]
    assert "ecg" not in ds[1]
    assert float(window.min()) == 0.0 and float(window.max()) == 1.0


def test_resampled_windows_match_whole_signal_resampling(cohort):
    ds = CohortWindows(cohort, n_classes=4, recordings=["a"], sfreq=200.0, normalization="none")
    assert ds.n_times == 6000
    signal = np.sin(2 * np.pi * 3 * np.arange(15000) / FS)
    with h5py.File(cohort) as f:
        assert f["recordings/a/eeg"].shape == (15000,)
    # Compare on a smooth signal: patch the reader to see a sine instead of the ramp.
    ds._dataset = lambda rec, modality: signal.astype(np.float32)
    window = ds[1]["eeg"][0].numpy()
    expected = resample_poly(signal, 2, 1)[6000:12000]
    np.testing.assert_allclose(window, expected, atol=1e-4)


def test_normalisations_guard_flat_windows():
    assert np.all(normalize(np.full(5, 3.0), "minmax") == 0)
    assert np.all(normalize(np.full(5, 3.0), "zscore") == 0)
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(normalize(x, "zscore"), (x - 2) / 2)
    np.testing.assert_allclose(normalize(x, "minmax"), x / 4)


def test_pickles_and_loads_in_worker_processes(cohort):
    ds = CohortWindows(cohort, n_classes=4, recordings=["a", "b"])
    first = ds[0]["eeg"]
    clone = pickle.loads(pickle.dumps(ds))
    assert torch.equal(clone[0]["eeg"], first)
    batches = list(DataLoader(ds, batch_size=7, num_workers=2))
    assert batches[0]["eeg"].shape == (7, 1, 3000)
    assert batches[0]["label"].tolist() == ds.labels.tolist()


def test_missing_ecg_names_the_recording(cohort):
    with pytest.raises(InputError, match="recording 'c' has no ECG signal"):
        CohortWindows(cohort, n_classes=4)
    assert len(CohortWindows(cohort, n_classes=4, modalities=("eeg",))) == 3 + 4 + 2


def test_bad_files_are_input_errors_naming_the_file(cohort, tmp_path):
    cut = tmp_path / "cut.h5"
    cut.write_bytes(cohort.read_bytes()[:2000])
    with pytest.raises(InputError, match="cut.h5: not a readable HDF5 file"):
        CohortWindows(cut, n_classes=4)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = [1]
    with pytest.raises(InputError, match="other.h5: not a sleep_kd cohort file"):
        CohortWindows(other, n_classes=4)
    with pytest.raises(InputError, match="no recording 'zz'"):
        CohortWindows(cohort, n_classes=4, recordings=["zz"])
