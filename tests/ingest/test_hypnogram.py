"""Hypnograms: EDF+ annotations (real Sleep-EDF and HMC files) and CSV/text files."""

from __future__ import annotations

import numpy as np
import pytest

from sleep_kd.data.ingest.hypnogram import build_epochs, read_annotation_stages, read_text_stages
from sleep_kd.data.stages import Stage
from sleep_kd.errors import InputError


def test_sleep_edf_hypnogram_runs_are_split_into_30s_epochs(real_data_dir):
    epochs = read_annotation_stages(real_data_dir / "sleep-edf" / "SC4001EC-Hypnogram.edf")
    # The file's first annotation is 30630 s of wake, its last 6900 s of '?' ending at 86400 s.
    assert epochs.onset[0] == 0 and np.all(epochs.duration == 30)
    assert np.all(epochs.stage[:1021] == Stage.W) and epochs.stage[1021] != Stage.W
    assert len(epochs) == 86400 // 30
    assert np.all(np.diff(epochs.onset) == 30)
    assert set(np.unique(epochs.stage)) == {-2, 0, 1, 2, 3, 4, 5}


def test_hmc_scoring_ignores_lights_events(real_data_dir):
    epochs = read_annotation_stages(real_data_dir / "hmc" / "SN001-sleepscoring.edf")
    assert len(epochs) == 25590 // 30 + 1
    assert np.all(np.diff(epochs.onset) == 30)
    assert set(np.unique(epochs.stage)) == {0, 1, 2, 3, 5}  # AASM: no N4, no '?'
    assert epochs.stage[0] == Stage.W


def test_overlapping_annotations_are_rejected():
    with pytest.raises(InputError, match="x.edf: stage annotations overlap .* at 30 s lasts 60 s"):
        build_epochs([0, 30, 60], [30, 60, 30], ["W", "N1", "N2"], source="x.edf")


def test_out_of_order_annotations_are_rejected():
    with pytest.raises(InputError, match="out of order"):
        build_epochs([0, 60, 30], [30, 30, 30], ["W", "N1", "N2"], source="x.edf")


def test_empty_hypnogram_and_odd_duration_are_rejected():
    with pytest.raises(InputError, match="x.edf: the hypnogram holds no sleep stage"):
        build_epochs([], [], [], source="x.edf")
    with pytest.raises(InputError, match="lasts 45 s, not a whole number of 30 s epochs"):
        build_epochs([0, 30], [30, 45], ["W", "W"], source="x.edf")


def test_text_hypnogram_one_label_per_line(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("W\nN1\nN2\nREM\n?\n")
    epochs = read_text_stages(path, epoch_s=30)
    assert epochs.onset.tolist() == [0, 30, 60, 90, 120]
    assert epochs.stage.tolist() == [0, 1, 2, 5, -2]


def test_csv_hypnogram_with_header(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("onset,duration,stage\n10,30,W\n40,60,Sleep stage 2\n")
    epochs = read_text_stages(path)
    assert epochs.onset.tolist() == [10, 40, 70] and epochs.stage.tolist() == [0, 2, 2]


def test_csv_hypnogram_unknown_label_names_it(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("W\nN1\nDeep\n")
    with pytest.raises(InputError, match="'Deep'"):
        read_text_stages(path)
