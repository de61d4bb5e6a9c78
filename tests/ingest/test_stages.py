"""The stage vocabulary: spellings, class mappings, names."""

from __future__ import annotations

import numpy as np
import pytest

from sleep_kd.data.stages import Stage, class_names, is_stage_label, parse_stage, stage_code_map, to_classes
from sleep_kd.errors import InputError


@pytest.mark.parametrize("label, stage", [
    ("Sleep stage W", Stage.W), ("Sleep stage 1", Stage.N1), ("Sleep stage 4", Stage.N4),
    ("Sleep stage N3", Stage.N3), ("Sleep stage R", Stage.R), ("Sleep stage ?", Stage.UNSCORED),
    ("Movement time", Stage.MOVEMENT), ("REM", Stage.R), ("n2", Stage.N2), (" W ", Stage.W),
])
def test_parse_stage_accepts_known_spellings(label, stage):
    assert parse_stage(label) is stage


def test_unknown_stage_label_is_an_input_error_naming_it():
    with pytest.raises(InputError, match="unknown sleep stage label 'Sleep stage X'"):
        parse_stage("Sleep stage X")


def test_events_are_not_stage_labels_but_sleep_stage_prefix_always_is():
    assert not is_stage_label("Lights off")
    assert is_stage_label("Sleep stage X")
    assert is_stage_label("N1")


def test_codes_are_explicit():
    assert [int(s) for s in Stage] == [0, 1, 2, 3, 4, 5, -1, -2]


def test_three_and_four_class_mappings_drop_movement_and_unscored():
    codes = np.array([0, 1, 2, 3, 4, 5, -1, -2])
    assert to_classes(codes, 3).tolist() == [0, 1, 1, 1, 1, 2, -1, -1]
    assert to_classes(codes, 4).tolist() == [0, 1, 1, 2, 2, 3, -1, -1]
    assert to_classes(codes, 4).dtype == np.int64


def test_class_names_and_bad_class_count():
    assert class_names(3) == ("W", "NREM", "REM")
    assert class_names(4) == ("W", "Light", "Deep", "REM")
    with pytest.raises(InputError, match="n_classes=5"):
        to_classes(np.array([0]), 5)


def test_a_bare_number_is_refused_without_a_code_map():
    with pytest.raises(InputError) as error:
        parse_stage("3")
    assert str(error.value) == ("stage label: numeric stage codes (3) need a code map: pass --stage-codes NAME "
                                "(aasm, reverse, rk; see --help) or your own, e.g. --stage-codes '0=W,1=N1,2=N2,3=N3,4=R'")
    assert is_stage_label("3") and is_stage_label("-1")  # refused, never skipped as an event


def test_opposite_numeric_conventions_give_opposite_stages():
    rk, reverse, aasm = stage_code_map("rk"), stage_code_map("reverse"), stage_code_map("aasm")
    assert [parse_stage(c, codes=rk) for c in "012345"] == [Stage.W, Stage.N1, Stage.N2, Stage.N3, Stage.N4, Stage.R]
    assert [parse_stage(c, codes=reverse) for c in "543210"] == [
        Stage.W, Stage.R, Stage.N1, Stage.N2, Stage.N3, Stage.N4]
    assert parse_stage("4", codes=aasm) is Stage.R and parse_stage("-2", codes=reverse) is Stage.UNSCORED
    assert parse_stage("6", codes=rk) is Stage.MOVEMENT and parse_stage("9", codes=rk) is Stage.UNSCORED
    assert parse_stage("2.0", codes=rk) is Stage.N2


def test_a_code_map_written_out_and_its_errors():
    assert stage_code_map("5=W, 4=R, 3=N1, 2=N2, 1=N3, 0=N4, -1=M, -2=?, -3=?") == stage_code_map("reverse")
    assert stage_code_map("5=W,4=R,3=N1") == {5: Stage.W, 4: Stage.R, 3: Stage.N1}
    with pytest.raises(InputError, match=r"--stage-codes '5=W,4': item '4' is not CODE=LABEL \(e.g. 5=W\); "
                                         r"built-in names: aasm, reverse, rk"):
        stage_code_map("5=W,4")
    with pytest.raises(InputError, match="--stage-codes '1=W,1=R': code 1 is given twice"):
        stage_code_map("1=W,1=R")
    with pytest.raises(InputError, match=r"--stage-codes '1=Deep': 'Deep' is not a stage"):
        stage_code_map("1=Deep")
    with pytest.raises(InputError, match=r"stage code 8 is not in the code map \(codes 3, 4, 5\)"):
        parse_stage("8", codes=stage_code_map("5=W,4=R,3=N1"))
