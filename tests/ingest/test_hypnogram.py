"""Hypnograms: EDF+ annotations (real Sleep-EDF and HMC files) and CSV/text files."""

from __future__ import annotations

import numpy as np
import pytest

from sleep_kd.data.ingest.hypnogram import build_epochs, read_annotation_stages, read_text_stages
from sleep_kd.data.stages import Stage, stage_code_map
from sleep_kd.errors import InputError


def test_sleep_edf_hypnogram_runs_are_split_into_30s_epochs(real_data_dir):
    epochs = read_annotation_stages(real_data_dir / "sleep-edf" / "SC4001EC-Hypnogram.edf", epoch_s=30)
    # The file's first annotation is 30630 s of wake, its last 6900 s of '?' ending at 86400 s.
    assert epochs.onset[0] == 0 and np.all(epochs.duration == 30)
    assert np.all(epochs.stage[:1021] == Stage.W) and epochs.stage[1021] != Stage.W
    assert len(epochs) == 86400 // 30
    assert np.all(np.diff(epochs.onset) == 30)
    assert set(np.unique(epochs.stage)) == {-2, 0, 1, 2, 3, 4, 5}


def test_hmc_scoring_ignores_lights_events(real_data_dir):
    epochs = read_annotation_stages(real_data_dir / "hmc" / "SN001-sleepscoring.edf", epoch_s=30)
    assert len(epochs) == 25590 // 30 + 1
    assert np.all(np.diff(epochs.onset) == 30)
    assert set(np.unique(epochs.stage)) == {0, 1, 2, 3, 5}  # AASM: no N4, no '?'
    assert epochs.stage[0] == Stage.W


def test_overlapping_annotations_are_rejected():
    with pytest.raises(InputError, match="x.edf: stage annotations overlap .* at 30 s lasts 60 s"):
        build_epochs([0, 30, 60], [30, 60, 30], ["W", "N1", "N2"], source="x.edf", epoch_s=30)


def test_out_of_order_annotations_are_rejected():
    with pytest.raises(InputError, match="out of order"):
        build_epochs([0, 60, 30], [30, 30, 30], ["W", "N1", "N2"], source="x.edf", epoch_s=30)


def test_empty_hypnogram_and_odd_duration_are_rejected():
    with pytest.raises(InputError, match="x.edf: the hypnogram holds no sleep stage"):
        build_epochs([], [], [], source="x.edf", epoch_s=30)
    with pytest.raises(InputError, match="lasts 45 s, not a whole number of 30 s epochs"):
        build_epochs([0, 30], [30, 45], ["W", "W"], source="x.edf", epoch_s=30)


def test_text_hypnogram_one_label_per_line(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("W\nN1\nN2\nREM\n?\n")
    epochs = read_text_stages(path, line_s=30)
    assert epochs.onset.tolist() == [0, 30, 60, 90, 120]
    assert epochs.stage.tolist() == [0, 1, 2, 5, -2]


def test_csv_hypnogram_with_header(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("onset,duration,stage\n10,30,W\n40,60,Sleep stage 2\n")
    epochs = read_text_stages(path, line_s=30)
    assert epochs.onset.tolist() == [10, 40, 70] and epochs.stage.tolist() == [0, 2, 2]


def test_csv_hypnogram_unknown_label_names_it(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("W\nN1\nDeep\n")
    with pytest.raises(InputError, match="'Deep'"):
        read_text_stages(path, line_s=30)


def test_numeric_hypnogram_without_a_code_map_shows_the_codes_found(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("5\n5\n3\n2\n4\n-2\n")
    with pytest.raises(InputError) as error:
        read_text_stages(path, line_s=30)
    assert str(error.value) == ("n.txt: numeric stage codes (-2, 2, 3, 4, 5) need a code map: pass --stage-codes "
                                "NAME (aasm, reverse, rk; see --help) or your own, e.g. "
                                "--stage-codes '0=W,1=N1,2=N2,3=N3,4=R'")


def test_numeric_hypnogram_read_with_the_reverse_convention(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("5\n5\n3\n2\n4\n-2\n")
    epochs = read_text_stages(path, line_s=30, codes=stage_code_map("reverse"))
    assert epochs.stage.tolist() == [0, 0, 1, 2, 5, -2]
    # The same file under the 0 = W convention would have been W as REM, stage 1 as stage 3:
    assert read_text_stages(path, line_s=30, codes=stage_code_map("5=R,3=N3,2=N2,4=N4,-2=?")).stage.tolist() == [5, 5, 3, 2, 4, -2]


def test_numeric_csv_column_needs_a_code_map_too(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("onset,duration,stage\n0,30,0\n30,30,4\n")
    with pytest.raises(InputError, match=r"n.csv: numeric stage codes \(0, 4\) need a code map"):
        read_text_stages(path, line_s=30)
    assert read_text_stages(path, line_s=30, codes=stage_code_map("aasm")).stage.tolist() == [0, 5]


def test_bracketed_header_line_is_skipped(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("[Hypnogram]\nW\nN1\nN2\n")
    assert read_text_stages(path, line_s=30).stage.tolist() == [0, 1, 2]


def test_lines_finer_than_the_scoring_epoch_are_merged_when_they_agree(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("[Hypnogram]\n" + "W\n" * 4 + "N2\n" * 4 + "rem\nREM\nREM\nREM\n")
    epochs = read_text_stages(path, line_s=5, scoring_epoch_s=20)
    assert epochs.stage.tolist() == [0, 2, 5]
    assert epochs.onset.tolist() == [0, 20, 40] and epochs.duration.tolist() == [20, 20, 20]


def test_lines_left_over_after_the_last_whole_scoring_epoch_are_refused_not_dropped(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("[Hypnogram]\n" + "W\n" * 4 + "N2\n" * 4 + "REM\n" * 4 + "N2\n" * 2)
    with pytest.raises(InputError) as error:
        read_text_stages(path, line_s=5, scoring_epoch_s=20)
    assert str(error.value) == ("n.txt: its last 2 line(s) (from line 14) make 10 s, not a whole 20 s scoring epoch "
                                "of 5 s lines; remove them or check the steps given")


def test_one_stage_per_line_without_a_line_step_is_refused_never_guessed(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("W\nN1\nN2\n")
    with pytest.raises(InputError) as error:
        read_text_stages(path, line_s=None, scoring_epoch_s=30, line_flag="--line-s")
    assert str(error.value) == ("n.txt: one stage per line, and the seconds between lines are not given: "
                                "pass --line-s SECONDS (the step is never guessed)")


def test_the_scoring_epoch_is_never_inferred_from_the_annotation_durations(tmp_path):
    # Every run of stages lasts 60 s: the old rule (the most common duration) made these 60 s epochs.
    epochs = build_epochs([0, 60, 120], [60, 60, 60], ["W", "N2", "W"], source="x.edf", epoch_s=30)
    assert epochs.duration.tolist() == [30] * 6 and epochs.stage.tolist() == [0, 0, 2, 2, 0, 0]
    with pytest.raises(TypeError):
        build_epochs([0], [30], ["W"], source="x.edf")  # no epoch length: not a default, an error


@pytest.mark.parametrize("label", ["Stage 2 sleep", "Sleep_stage_N2", "sleep stage X"])
def test_a_label_that_claims_to_be_a_stage_is_refused_never_dropped(tmp_path, label):
    from tests.ingest.fixtures import write_annotations

    path = tmp_path / "h.edf"
    write_annotations(path, [(0, 30, "Sleep stage W"), (30, 30, label), (60, 30, "Lights on")])
    with pytest.raises(InputError) as error:
        read_annotation_stages(path, epoch_s=30)
    assert str(error.value).startswith(f"h.edf: annotation at 30 s: unknown sleep stage label {label!r}")


def test_lines_that_disagree_inside_a_scoring_epoch_are_refused_with_the_line_number(tmp_path):
    path = tmp_path / "n.txt"
    # Lines 2-7: the first 30 s epoch (all W); lines 8-13 the second, whose fourth line says N1.
    path.write_text("[Hypnogram]\n" + "W\n" * 6 + "W\n" * 3 + "N1\n" + "W\n" * 2)
    with pytest.raises(InputError) as error:
        read_text_stages(path, line_s=5, scoring_epoch_s=30)
    assert str(error.value) == "n.txt: line 11 ('N1') disagrees with line 8 ('W') inside the 30 s scoring epoch at 30 s"


def test_scoring_epoch_that_is_not_a_whole_number_of_lines_is_refused(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("W\n" * 10)
    with pytest.raises(InputError, match=r"n.txt: the scoring epoch \(30 s\) is not a whole number of hypnogram lines "
                                         r"of 7 s \(--epoch-s\)"):
        read_text_stages(path, line_s=7, scoring_epoch_s=30)
