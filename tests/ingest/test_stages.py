"""The stage vocabulary: spellings, class mappings, names."""

from __future__ import annotations

import numpy as np
import pytest

from sleep_kd.data.stages import Stage, class_names, is_stage_label, parse_stage, to_classes
from sleep_kd.errors import InputError


@pytest.mark.parametrize("label, stage", [
    ("Sleep stage W", Stage.W), ("Sleep stage 1", Stage.N1), ("Sleep stage 4", Stage.N4),
    ("Sleep stage N3", Stage.N3), ("Sleep stage R", Stage.R), ("Sleep stage ?", Stage.UNSCORED),
    ("Movement time", Stage.MOVEMENT), ("REM", Stage.R), ("n2", Stage.N2), (" W ", Stage.W), ("3", Stage.N3),
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
