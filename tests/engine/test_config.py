"""Config layers: defaults < strategy YAML < --config < flags < --set; bad keys and types refused."""

import pytest

from sleep_kd.engine.config import defaults, flatten, parse_set, resolve_config
from sleep_kd.errors import InputError


def test_layers_apply_in_order(tmp_path):
    config_file = tmp_path / "run.yaml"
    config_file.write_text("train:\n  lr: 0.01\n  epochs: 3\nloss:\n  sd: {temperature: 2.0}\n")
    config = resolve_config("kd_temp", config_file=config_file, options={"train": {"epochs": 5}},
                            set_pairs=["train.epochs=7", "loss.sd={alpha: 0.9}"])
    assert config["train"]["lr"] == 0.01            # from --config
    assert config["train"]["epochs"] == 7           # --set beats the flag, which beat --config
    assert config["loss"]["sd"] == {"temperature": 2.0, "alpha": 0.9, "kl_reduction": "batchmean"}
    assert config["strategy"] == "kd_temp"
    assert config["train"]["batch_size"] == defaults()["train"]["batch_size"]


def test_paper_preset_keeps_the_seed_choices():
    config = resolve_config("feat_temp", config_file="configs/paper.yaml")
    assert config["model"]["name"] == "utime_seed"
    assert config["loss"]["sd"]["kl_reduction"] == "mean" and config["loss"]["sd"]["temperature"] == 1.0
    assert config["loss"]["wce"]["apply_weights"] is False
    assert config["loss"]["at"]["normalize"] == "batch" and config["loss"]["at"]["distance"] == "l1"
    assert (config["train"]["batch_size"], config["train"]["epochs"], config["data"]["split"]) == (256, 150, "seed")


def test_unknown_key_is_refused_with_its_origin():
    with pytest.raises(InputError, match=r"unknown config key 'train\.learning_rate' in --set"):
        resolve_config("ecg_base", set_pairs=["train.learning_rate=0.1"])


def test_wrong_type_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  epochs: ten\n")
    with pytest.raises(InputError) as error:
        resolve_config("ecg_base", config_file=bad)
    assert str(error.value) == f"config key 'train.epochs' in {bad} must be int, got 'ten'"


def test_bad_value_is_refused():
    with pytest.raises(InputError, match="config key 'data.n_classes' must be 3 or 4, got 5"):
        resolve_config("ecg_base", set_pairs=["data.n_classes=5"])


def test_int_is_accepted_for_float_and_stored_as_float():
    config = resolve_config("ecg_base", set_pairs=["train.lr=1"])
    assert config["train"]["lr"] == 1.0 and isinstance(config["train"]["lr"], float)


def test_set_parses_yaml_values():
    assert parse_set(["a.b=3", "a.c=[1, 2]", "d=null"]) == {"a": {"b": 3, "c": [1, 2]}, "d": None}
    with pytest.raises(InputError, match="--set expects key=value, got 'train.lr'"):
        parse_set(["train.lr"])


def test_flatten_makes_hparams():
    flat = flatten({"train": {"lr": 0.1}, "model": {"overrides": {}}, "data": {"path": None}})
    assert flat == {"train.lr": 0.1, "model.overrides": "{}", "data.path": "null"}
