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
    assert (config["train"]["batch_size"], config["train"]["epochs"], config["data"]["split"]) == (256, 150, "original")
    assert config["loss"]["at"]["group_weighting"] == "original"


def test_unknown_key_is_refused_with_its_origin():
    with pytest.raises(InputError, match=r"unknown config key 'train\.learning_rate' in --set"):
        resolve_config("ecg_base", set_pairs=["train.learning_rate=0.1"])


def test_wrong_type_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  epochs: ten\n")
    with pytest.raises(InputError) as error:
        resolve_config("ecg_base", config_file=bad)
    assert str(error.value) == f"config key 'train.epochs' in {bad} is 'ten'; allowed: an integer in [1, 1000]"


def test_bad_value_is_refused():
    with pytest.raises(InputError, match="config key 'data.n_classes' in --set is 5; allowed: one of 3, 4"):
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


def test_every_default_key_has_a_rule_and_every_default_passes_it():
    from sleep_kd.engine.config import DEFAULTS_FILE, leaf_keys, read_yaml
    from sleep_kd.engine.schema import SCHEMA

    assert sorted(leaf_keys(read_yaml(DEFAULTS_FILE))) == sorted(SCHEMA)
    assert defaults()["train"]["lr"] == 0.001  # checked, converted


@pytest.mark.parametrize("spelling, value", [("3e-4", 3e-4), ("3E-4", 3e-4), ("1_000.5", 1000.5), (" 2.5 ", 2.5),
                                             ("'0.1'", 0.1), (".5", 0.5), ("1e3", 1000.0)])
def test_every_float_spelling_is_accepted_in_set(spelling, value):
    key = "train.collective_timeout_s"  # a float key whose range holds every value here
    assert resolve_config("ecg_base", set_pairs=[f"{key}={spelling}"])["train"]["collective_timeout_s"] == value


def test_yaml_3e_minus_4_in_a_config_file_is_a_float(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("train:\n  lr: 3e-4\n  weight_decay: 1e-5\nloss:\n  sd: {temperature: 2e0}\n")
    config = resolve_config("kd_temp", config_file=mine)
    assert (config["train"]["lr"], config["train"]["weight_decay"], config["loss"]["sd"]["temperature"]) == \
        (3e-4, 1e-5, 2.0)


def test_seed_is_a_deprecated_alias_of_original_with_one_notice(capsys):
    config = resolve_config("feat_temp", set_pairs=["data.split=seed", "loss.at={group_weighting: seed}"])
    assert config["data"]["split"] == "original" and config["loss"]["at"]["group_weighting"] == "original"
    assert capsys.readouterr().err.splitlines() == [
        "[sleep_kd] note: config key 'data.split' in --set: 'seed' is the old name of 'original'; write 'original'",
        "[sleep_kd] note: config key 'loss.at.group_weighting' in --set: 'seed' is the old name of 'original'; "
        "write 'original'"]


def test_a_flag_is_named_as_the_origin():
    with pytest.raises(InputError) as error:
        resolve_config("ecg_base", options={"train": {"max_steps": -1}}, flag_names={"train.max_steps": "--max-steps"})
    assert str(error.value) == ("config key 'train.max_steps' in --max-steps is -1; allowed: an integer in "
                                "[0, 1000000000] (0 = no limit)")


def test_the_model_window_follows_data_window_s():
    from sleep_kd.engine.combinations import model_for

    config = resolve_config("ecg_base", set_pairs=["data.window_s=60"])
    assert model_for(config, window_s=60.0).n_times == 6000
