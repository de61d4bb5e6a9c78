"""The strategy registry and the six definitions."""

from __future__ import annotations

import json

import pytest
import yaml

from sleep_kd.errors import InputError
from sleep_kd.strategies import Strategy, get_strategy, list_strategies


def test_list_strategies_returns_the_six_names_sorted():
    assert list_strategies() == ["ecg_base", "eeg_base", "feat_temp", "feat_train", "feat_wce", "kd_temp"]
    assert list_strategies(controls=True) == ["ecg_base", "ecg_self", "eeg_base", "feat_temp", "feat_train",
                                              "feat_wce", "kd_temp"]


def test_definitions_follow_the_seed_variants():
    table = {name: (s.student_modality, dict(s.terms), s.teacher, s.init_from, s.best_metric, s.best_mode)
             for name in list_strategies() for s in [get_strategy(name)]}
    assert table == {
        "eeg_base": ("eeg", {"ce": 1.0}, None, None, "weighted_f1", "max"),
        "ecg_base": ("ecg", {"ce": 1.0}, None, None, "weighted_f1", "max"),
        "feat_train": ("ecg", {"at": 1.0, "ce": 0.0}, "eeg_base", None, "at_loss", "min"),
        "feat_temp": ("ecg", {"sd": 1.0}, "eeg_base", "feat_train", "weighted_f1", "max"),
        "feat_wce": ("ecg", {"wce": 1.0}, None, "feat_train", "weighted_f1", "max"),
        "kd_temp": ("ecg", {"sd": 1.0}, "eeg_base", None, "weighted_f1", "max"),
    }


def test_unknown_strategy_lists_the_known_names():
    with pytest.raises(InputError, match="unknown strategy 'kd'; known strategies: ecg_base, ecg_self, eeg_base, feat_temp"):
        get_strategy("kd")


def test_strategies_are_frozen_and_keep_their_own_copy_of_the_terms():
    with pytest.raises(AttributeError):
        get_strategy("kd_temp").teacher = None
    terms = {"ce": 1}
    strategy = Strategy(name="copy", student_modality="ecg", terms=terms)
    terms["ce"] = 5.0
    assert strategy.terms == {"ce": 1.0} and isinstance(strategy.terms["ce"], float)


def test_a_strategy_serialises_to_plain_json_and_yaml():
    data = get_strategy("feat_train").to_dict()
    assert json.loads(json.dumps(data))["terms"] == {"at": 1.0, "ce": 0.0}
    assert yaml.safe_load(yaml.safe_dump(data))["best_metric"] == "at_loss"
    assert Strategy(**data) == get_strategy("feat_train")


@pytest.mark.parametrize(("fields", "message"), [
    (dict(student_modality="emg", terms={"ce": 1.0}), "student_modality must be one of"),
    (dict(student_modality="ecg", terms={"focal": 1.0}), "unknown loss term 'focal'"),
    (dict(student_modality="ecg", terms={"ce": -1.0}), "weight of loss term 'ce' must be a finite number >= 0"),
    (dict(student_modality="ecg", terms={"ce": 0.0}), "at least one loss term needs a positive weight"),
    (dict(student_modality="ecg", terms={"sd": 1.0}), "loss term 'sd' needs a teacher, but the strategy names none"),
    (dict(student_modality="ecg", terms={"ce": 1.0}, best_mode="up"), "best_mode must be 'max' or 'min'"),
])
def test_inconsistent_strategies_are_refused(fields, message):
    with pytest.raises(InputError, match=message):
        Strategy(name="bad", **fields)
