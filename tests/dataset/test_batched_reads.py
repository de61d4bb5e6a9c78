"""Batched reads (__getitems__, what the DataLoader calls) give exactly what item-by-item reads give."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, default_collate

from sleep_kd.data.dataset import CohortWindows, normalize, normalize_rows


@pytest.fixture(scope="module")
def small_cohort(tmp_path_factory):
    """Two synthetic nights of 0.2 h at 100 Hz."""
    from sleep_kd.data.ingest import ingest
    from sleep_kd.data.synthetic import generate_cohort

    root = tmp_path_factory.mktemp("batched")
    generate_cohort(root / "edf", n_subjects=2, hours=0.2, seed=3, sfreq=128.0)
    ingest("mass", root / "edf", root / "c.h5", sfreq=100.0, progress=False)
    return root / "c.h5"


@pytest.mark.parametrize("method", ["minmax", "zscore", "none"])
def test_normalize_rows_equals_normalize_per_window(method):
    rng = np.random.default_rng(0)
    windows = (rng.standard_normal((5, 300)) * 40).astype(np.float32)
    windows[2] = 7.0  # a flat window
    expected = np.stack([np.asarray(normalize(w, method), dtype=np.float32) for w in windows])
    np.testing.assert_array_equal(normalize_rows(windows, method).astype(np.float32), expected)


@pytest.mark.parametrize("normalization, sfreq", [("minmax", 100.0), ("zscore", 100.0), ("minmax", 50.0)])
def test_batched_items_equal_single_items(small_cohort, normalization, sfreq):
    data = CohortWindows(small_cohort, n_classes=4, normalization=normalization, sfreq=sfreq,
                         modalities=("eeg", "ecg"))
    indices = [5, 0, len(data) - 1, 17, 5]
    batched = default_collate(data.__getitems__(indices))
    single = default_collate([data[i] for i in indices])
    assert batched.keys() == single.keys()
    for key in single:
        assert batched[key].dtype == single[key].dtype and batched[key].shape == single[key].shape
        assert torch.equal(batched[key], single[key]), key


def test_the_dataloader_uses_batched_reads(small_cohort, monkeypatch):
    data = CohortWindows(small_cohort, n_classes=4, modalities=("ecg",))
    calls = []
    original = CohortWindows.__getitems__
    monkeypatch.setattr(CohortWindows, "__getitems__", lambda self, idx: calls.append(len(idx)) or original(self, idx))
    batch = next(iter(DataLoader(data, batch_size=8)))
    assert calls == [8] and batch["ecg"].shape == (8, 1, data.n_times)
