"""Numbers and config files: every numeric key has a range a real run could use, NaN and infinities
are refused, counts are bounded by the data, and a YAML file that repeats a key or is not UTF-8 text
is one line naming the file, the key and the lines. Each bad case exits 2 before anything is
written; an earlier run folder in the same place stays byte-identical.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

import train_loop
from sleep_kd.engine.config import resolve_config
from sleep_kd.engine.schema import SCHEMA, Float, Int, check_value
from sleep_kd.errors import InputError
from sleep_kd.losses.attention import P_MAX, at
from sleep_kd.losses.distillation import TEMPERATURE_MAX, sd
from sleep_kd.losses.registry import Outputs
from tests.reliability.conftest import run_cli, snapshot, train_argv
from tests.reliability.test_bad_run_inputs import one_line

TWICE = "give each key once (the later one would silently replace the earlier)"


@pytest.fixture
def prior_run(eeg_run, tmp_path) -> tuple[Path, dict]:
    out = tmp_path / "prior"
    shutil.copytree(eeg_run, out)
    return out, snapshot(out)


def train_with(small_cohort, out: Path, *extra, strategy: str = "kd_temp") -> list[str]:
    return ["--strategy", strategy, *train_argv(small_cohort, out.parent, "--out", out), *map(str, extra)]


# --- numbers: a range for every key, checked before the run folder is touched ----------------

@pytest.mark.parametrize("extra, message", [
    # K23: Adam's step overflowed (RuntimeError) after the run folder was cleared
    (["--set", "train.weight_decay=1e300"],
     "config key 'train.weight_decay' in --set is '1e300'; allowed: a finite number in [0, 1]"),
    # K22: T^2 overflowed (OverflowError) at the first step
    (["--set", "loss.sd.temperature=1e300"],
     "config key 'loss.sd.temperature' in --set is '1e300'; allowed: a finite number in (0, 100]"),
    (["--set", "loss.sd={temperature: 1.0e+300}"],
     "config key 'loss.sd.temperature' in --set is 1e+300; allowed: a finite number in (0, 100]"),
    (["--set", "loss.at.p=1e300"], "config key 'loss.at.p' in --set is '1e300'; allowed: a finite number in (0, 8]"),
    (["--set", "train.collective_timeout_s=1e300"],
     "config key 'train.collective_timeout_s' in --set is '1e300'; allowed: a finite number in (0, 86400]"),
    (["--set", "train.lr=5"], "config key 'train.lr' in --set is 5; allowed: a finite number in (0, 1]"),
    (["--set", "data.window_s=3000"],
     "config key 'data.window_s' in --set is 3000; allowed: a finite number in (0, 300]"),
    (["--epochs", "100000000000000000000"],
     "config key 'train.epochs' in --epochs is 100000000000000000000; allowed: an integer in [1, 1000]"),
    (["--batch-size", "1000000"],
     "config key 'train.batch_size' in --batch-size is 1000000; allowed: an integer in [1, 8192] "
     "(at most the training windows)"),
    (["--grad-accum", "5000"],
     "config key 'train.grad_accum' in --grad-accum is 5000; allowed: an integer in [1, 1024]"),
    (["--set", "data.num_workers=1000"],
     "config key 'data.num_workers' in --set is 1000; allowed: an integer in [0, 128]"),
    (["--set", "train.windows_per_epoch=1e12"],
     "config key 'train.windows_per_epoch' in --set is '1e12'; allowed: an integer in [0, 100000000] "
     "(0 = every training window)"),
    (["--set", "model.context_epochs=100000"],
     "config key 'model.context_epochs' in --set is 100000; allowed: an integer in [0, 1440] (0 for the preset's "
     "own length, else at least 1; 1440 = 12 h of 30-s epochs)"),
    (["--seed", "99999999999"], "config key 'seed' in --seed is 99999999999; allowed: an integer in [0, 4294967295]"),
])
def test_a_number_past_its_range_exits_2_naming_the_range_and_touches_nothing(small_cohort, prior_run, capsys,
                                                                               extra, message):
    out, before = prior_run
    code, _, err = run_cli(train_loop.main, train_with(small_cohort, out, *extra), capsys)
    assert code == 2
    assert one_line(err) == f"error: {message}"
    assert snapshot(out) == before


NUMERIC = [key for key, rule in SCHEMA.items() if isinstance(rule, (Int, Float))]
FLOATS = [key for key, rule in SCHEMA.items() if isinstance(rule, Float)]


@pytest.mark.parametrize("key", NUMERIC)
def test_every_numeric_key_has_an_upper_bound_a_run_could_use(key):
    rule = SCHEMA[key]
    high = rule.high() if callable(rule.high) else rule.high
    assert high is not None and high < 1e15, key
    assert check_value(key, high, origin="--set") == high
    with pytest.raises(InputError) as error:
        check_value(key, high * 2 + 1, origin="--set")
    assert str(error.value).startswith(f"config key '{key}' in --set is ")


@pytest.mark.parametrize("spelling", ["nan", ".nan", "inf", ".inf", "-.inf", "-inf", "1e999"])
@pytest.mark.parametrize("key", FLOATS)
def test_every_float_key_refuses_nan_and_infinities(key, spelling):
    with pytest.raises(InputError) as error:
        resolve_config("kd_temp", set_pairs=[f"{key}={spelling}"])
    assert str(error.value).startswith(f"config key '{key}' in --set is ")
    assert f"; allowed: {SCHEMA[key].describe()}" in str(error.value)


@pytest.mark.parametrize("options, message", [
    ({"temperature": 1e300}, f"loss term 'sd' option 'temperature' must lie in (0, {TEMPERATURE_MAX:g}], got 1e+300"),
    ({"temperature": float("nan")},
     f"loss term 'sd' option 'temperature' must lie in (0, {TEMPERATURE_MAX:g}], got nan"),
    ({"alpha": float("nan")}, "loss term 'sd' option 'alpha' must lie in [0, 1], got nan"),
])
def test_the_distillation_loss_refuses_options_out_of_range(options, message):
    logits = Outputs(torch.zeros(2, 4))
    with pytest.raises(InputError) as error:
        sd(logits, logits, torch.zeros(2, dtype=torch.long), **options)
    assert str(error.value) == message


@pytest.mark.parametrize("p", [1e300, float("nan"), 0.0])
def test_attention_transfer_refuses_an_exponent_out_of_range(p):
    taps = Outputs(torch.zeros(2, 4), taps={"encoder": [torch.ones(2, 3, 5)]})
    with pytest.raises(InputError) as error:
        at(taps, taps, torch.zeros(2, dtype=torch.long), p=p, groups=["encoder"])
    assert str(error.value) == f"loss term 'at' option 'p' must lie in (0, {P_MAX:g}], got {p!r}"


# --- counts the data bounds ---------------------------------------------------------------------

def training_windows(small_cohort) -> int:
    from sleep_kd.engine.data import make_dataset, split_recordings

    config = resolve_config("ecg_base", set_pairs=[f"data.path={small_cohort}"])
    return len(make_dataset(small_cohort, split_recordings(small_cohort, config)["train"], config, sfreq=100.0,
                            modalities=("ecg",)))


def test_a_batch_larger_than_the_training_split_exits_2_before_the_run_folder_is_touched(small_cohort, prior_run,
                                                                                          capsys):
    out, before = prior_run
    windows = training_windows(small_cohort)
    code, _, err = run_cli(train_loop.main, train_with(small_cohort, out, "--batch-size", windows + 1,
                                                       strategy="eeg_base"), capsys)
    assert code == 2
    assert one_line(err) == (f"error: config key 'train.batch_size' is {windows + 1}, more than the {windows} windows "
                             f"of the training split of {small_cohort}; allowed: at most {windows}")
    assert snapshot(out) == before


def test_more_windows_per_epoch_than_the_split_holds_takes_all_of_them_and_says_so(small_cohort, tmp_path, capsys):
    windows = training_windows(small_cohort)
    code, stdout, _ = run_cli(train_loop.main, train_with(small_cohort, tmp_path / "run", "--set",
                                                          "train.windows_per_epoch=50000", strategy="ecg_base"), capsys)
    assert code == 0
    assert (f"[sleep_kd] note: train.windows_per_epoch is 50000, more than the {windows} windows of the training "
            f"split of {small_cohort}: each epoch takes all of them") in stdout.splitlines()


def test_more_folds_than_subjects_exits_2_before_any_fold_trains(small_cohort, prior_run, capsys):
    out, before = prior_run
    code, _, err = run_cli(train_loop.main, train_with(small_cohort, out, "--set", "data.split=kfold", "--set",
                                                       "data.folds=11", strategy="eeg_base"), capsys)
    assert code == 2
    assert one_line(err) == (f"error: {small_cohort}: kfold with 11 folds (data.folds) needs at least 11 subjects, "
                             "one per fold; the cohort has 10")
    assert snapshot(out) == before


# --- YAML: one reader for every file and --set value ----------------------------------------------

def test_k02_a_config_with_two_train_blocks_is_refused_naming_the_key_and_both_lines(small_cohort, prior_run,
                                                                                      tmp_path, capsys):
    out, before = prior_run
    mine = tmp_path / "two blocks.yaml"
    mine.write_text("train:\n  lr: 0.01\n  epochs: 3\nloss:\n  sd: {alpha: 0.9}\ntrain:\n  batch_size: 8\n")
    code, _, err = run_cli(train_loop.main, train_with(small_cohort, out, "--config", mine), capsys)
    assert code == 2
    assert one_line(err) == f"error: config file {mine}: key 'train' is given twice, at lines 1 and 6; {TWICE}"
    assert snapshot(out) == before


@pytest.mark.parametrize("text, message", [
    ("train:\n  lr: 0.01\n  lr: 0.02\n", "key 'train.lr' is given twice, at lines 2 and 3"),
    ("loss:\n  sd: {alpha: 0.5, alpha: 0.9}\n", "key 'loss.sd.alpha' is given twice on line 2"),
    ("model:\n  overrides:\n    filters: [4, 8]\n    filters: [8, 16]\n",
     "key 'model.overrides.filters' is given twice, at lines 3 and 4"),
])
def test_a_key_given_twice_anywhere_in_a_config_file_is_refused(tmp_path, text, message):
    mine = tmp_path / "mine.yaml"
    mine.write_text(text)
    with pytest.raises(InputError) as error:
        resolve_config("kd_temp", config_file=mine)
    assert str(error.value) == f"config file {mine}: {message}; {TWICE}"


def test_a_key_given_twice_in_one_set_value_is_refused(small_cohort, prior_run, capsys):
    out, before = prior_run
    code, _, err = run_cli(train_loop.main, train_with(small_cohort, out, "--set",
                                                       "loss.sd={temperature: 1, temperature: 2}"), capsys)
    assert code == 2
    assert one_line(err) == ("error: --set loss.sd={temperature: 1, temperature: 2}: key 'loss.sd.temperature' is "
                             f"given twice; {TWICE}")
    assert snapshot(out) == before


def test_a_merge_key_may_restate_what_it_merges(tmp_path):
    mine = tmp_path / "merge.yaml"
    mine.write_text("train: &fast\n  lr: 0.01\n  epochs: 2\nloss:\n  sd:\n    <<: {alpha: 0.5, temperature: 2}\n"
                    "    alpha: 0.9\n")
    config = resolve_config("kd_temp", config_file=mine)
    assert config["loss"]["sd"]["alpha"] == 0.9 and config["loss"]["sd"]["temperature"] == 2.0


def test_k04_a_config_that_is_not_utf8_is_one_line_naming_the_byte(small_cohort, prior_run, tmp_path, capsys):
    out, before = prior_run
    mine = tmp_path / "latin1.yaml"
    mine.write_bytes("# réglages du labo\ntrain:\n  lr: 0.01\n".encode("latin-1"))
    code, _, err = run_cli(train_loop.main, train_with(small_cohort, out, "--config", mine), capsys)
    assert code == 2
    assert one_line(err) == f"error: config file {mine} is not UTF-8 text (byte 0xe9 at line 1); save it as UTF-8"
    assert snapshot(out) == before


def test_a_config_with_a_byte_order_mark_is_read(tmp_path):
    mine = tmp_path / "bom.yaml"
    mine.write_bytes("\ufefftrain:\n  lr: 0.01\n".encode("utf-8"))
    assert resolve_config("ecg_base", config_file=mine)["train"]["lr"] == 0.01


@pytest.mark.parametrize("make, message", [
    (lambda p: p.mkdir(), "config file {p} is a folder, expected a YAML file"),
    (lambda p: None, "config file {p} does not exist"),
    (lambda p: p.write_text("train: [1\n"),
     "config file {p} is not valid YAML: expected ',' or ']', but got '<stream end>' at line 2, column 1"),
])
def test_a_config_file_that_cannot_be_read_is_one_line(small_cohort, prior_run, tmp_path, capsys, make, message):
    out, before = prior_run
    mine = tmp_path / "mine.yaml"
    make(mine)
    code, _, err = run_cli(train_loop.main, train_with(small_cohort, out, "--config", mine), capsys)
    assert code == 2
    assert one_line(err) == "error: " + message.format(p=mine)
    assert snapshot(out) == before


def test_a_hand_edited_run_config_with_a_key_twice_refuses_the_resume(prior_run, capsys):
    out, _ = prior_run
    saved = out / "config.yaml"
    saved.write_text(saved.read_text() + "seed: 7\n")  # a second top-level 'seed'
    line = saved.read_text().splitlines().index("seed: 7") + 1
    code, _, err = run_cli(train_loop.main, ["--strategy", "eeg_base", "--resume", out], capsys)
    assert code == 2
    assert one_line(err) == f"error: config file {saved}: key 'seed' is given twice, at lines 1 and {line}; {TWICE}"
