"""Synthetic MASS-like cohort -> ingest -> Dataset keeps the stages written in each Base.edf."""

from __future__ import annotations

import h5py
import mne
import numpy as np
import pytest

from sleep_kd.data.dataset import CohortWindows
from sleep_kd.data.ingest import ingest
from sleep_kd.data.stages import parse_stage, to_classes

synthetic = pytest.importorskip("sleep_kd.data.synthetic")


def _base_stages(path) -> np.ndarray:
    annotations = mne.read_annotations(str(path))
    return np.array([int(parse_stage(d)) for d in annotations.description if d.startswith("Sleep stage")])


def test_stages_survive_generation_ingest_and_windows(tmp_path):
    root = tmp_path / "cohort"
    synthetic.generate_cohort(root, n_subjects=5, hours=0.1, seed=3)
    out = tmp_path / "c.h5"
    summary = ingest("mass", root, out, sfreq=100, progress=False)
    assert len(summary.written) == 5 and not summary.skipped
    ds = CohortWindows(out, n_classes=4)
    assert len(ds) > 0
    for index, rid in enumerate(ds.recordings):
        subset = f"SS{int(rid.split('-')[1])}"
        written = _base_stages(root / subset / f"{rid} Base.edf")
        mine = ds._epoch[ds._rec == index]
        expected = to_classes(written, 4)
        assert ds.labels[ds._rec == index].tolist() == expected[mine].tolist()
        with h5py.File(out) as f:
            onset = f[f"recordings/{rid}/epochs/onset"][()]
            epoch_s = f[f"recordings/{rid}/epochs/duration"][()]
            signal_s = f[f"recordings/{rid}"].attrs["duration_s"]
        assert np.allclose(epoch_s, 20.0 if subset in ("SS2", "SS4", "SS5") else 30.0)
        # A 30 s window centred on each epoch must fit in the signal: R&K's first epoch never does.
        centre = onset + epoch_s / 2
        fits = (centre - 15 >= 0) & (centre + 15 <= signal_s + 1e-9)
        assert mine.tolist() == np.flatnonzero((expected >= 0) & fits).tolist()
        assert (0 in mine.tolist()) == (subset in ("SS1", "SS3") and expected[0] >= 0)
