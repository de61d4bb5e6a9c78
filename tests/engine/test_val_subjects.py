"""data.val_subjects: validation on a nested, seeded subset of the validation split's subjects;
the test split is never touched and the run records what it validated on."""

import json

import train_loop
from sleep_kd.data.splits import make_splits, validation_subset
from sleep_kd.engine.data import split_recordings
from sleep_kd.engine.config import resolve_config


def test_the_validation_subset_is_nested_seeded_and_zero_keeps_all(tiny_cohort):
    val = make_splits(tiny_cohort, method="kfold", seed=42, k=3, fold=0)["val"]
    assert len(val) == 3  # one night per subject
    one, two = (validation_subset(tiny_cohort, val, count=k, seed=42) for k in (1, 2))
    assert (len(one), len(two)) == (1, 2)
    assert set(one) < set(two) < set(val)
    assert validation_subset(tiny_cohort, val, count=0, seed=42) == val
    assert validation_subset(tiny_cohort, val, count=9, seed=42) == val  # more than the split holds: all of it
    assert {tuple(validation_subset(tiny_cohort, val, count=2, seed=s)) for s in range(8)} != {tuple(two)}


def test_a_run_validates_on_the_subset_and_keeps_its_test_split(tiny_cohort, tmp_path, train_args):
    whole = split_recordings(tiny_cohort, resolve_config("ecg_base", set_pairs=["data.split=kfold", "data.folds=3"]))
    out = tmp_path / "runs" / "base"
    assert train_loop.main(["--strategy", "ecg_base", *train_args(tiny_cohort, tmp_path / "runs", "--out", str(out),
                                                                  "--set", "data.split=kfold", "--set", "data.folds=3",
                                                                  "--set", "data.val_subjects=2",
                                                                  "--max-steps", "1")]) == 0
    splits = json.loads((out / "splits.json").read_text())
    assert len(splits["val"]) == 2 and set(splits["val"]) < set(whole["val"])
    assert splits["test"] == whole["test"] and splits["train"] == whole["train"]
    assert json.loads((out / "best" / "config.json").read_text())["config"]["data"]["val_subjects"] == 2
