"""Subject-wise splits: the original rule's counts, no subject in two splits, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sleep_kd.data.ingest.hypnogram import EpochTable
from sleep_kd.data.cohort_file import CohortWriter, StoredRecording
from sleep_kd.data.splits import kfold_split, main, make_splits, original_split, pooled_split
from sleep_kd.errors import InputError

MASS_SIZES = {"SS1": 53, "SS2": 19, "SS3": 62, "SS4": 40, "SS5": 26}


def _mass_ids():
    return {ss: [f"01-{ss[-1].zfill(2)}-{i:04d}" for i in range(1, n + 1)] for ss, n in MASS_SIZES.items()}


def test_original_split_gives_the_original_158_20_22():
    parts = original_split(_mass_ids(), seed=42)
    assert [len(parts[name]) for name in ("train", "val", "test")] == [158, 20, 22]
    assert len(set(parts["train"]) | set(parts["val"]) | set(parts["test"])) == 200


def test_original_split_matches_global_random_seed_then_shuffles():
    import random

    ids = _mass_ids()
    random.seed(42)
    expected_test = []
    for subset in ("SS1", "SS3", "SS2", "SS4", "SS5"):
        names = sorted(ids[subset])
        random.shuffle(names)
        expected_test += names[int(0.9 * len(names)):]
    assert original_split(ids, seed=42)["test"] == expected_test
    assert original_split(ids, seed=1)["test"] != expected_test


def test_pooled_and_kfold_partition_the_subjects():
    subjects = [f"s{i:02d}" for i in range(10)]
    pooled = pooled_split(subjects, seed=0)
    assert [len(pooled[n]) for n in ("train", "val", "test")] == [8, 1, 1]
    tests = []
    for fold in range(5):
        parts = kfold_split(subjects, k=5, fold=fold, seed=0)
        assert sorted(parts["train"] + parts["val"] + parts["test"]) == subjects
        tests += parts["test"]
    assert sorted(tests) == subjects  # every subject is tested exactly once over the folds
    with pytest.raises(InputError, match="k >= 3"):
        kfold_split(subjects, k=2, fold=0)


@pytest.fixture
def cohort(tmp_path):
    path = tmp_path / "c.h5"
    table = EpochTable(np.zeros(1), np.full(1, 30.0), np.zeros(1, np.int8))
    with CohortWriter(path, sfreq=10.0, source="test") as writer:
        for i in range(12):  # 6 subjects, 2 nights each
            attrs = {"subject": f"subj{i // 2}", "subset": "SS1"}
            writer.add(StoredRecording(f"rec{i:02d}", np.arange(300.0), None, table, attrs))
    return path


def test_nights_of_a_subject_stay_together(cohort):
    result = make_splits(cohort, method="pooled", seed=3, save_to=cohort.parent / "c.splits-pooled.json")
    owner = {}
    for name in ("train", "val", "test"):
        for rid in result[name]:
            owner.setdefault(int(rid[3:]) // 2, set()).add(name)
    assert all(len(names) == 1 for names in owner.values()) and len(owner) == 6
    assert sum(len(result[n]) for n in ("train", "val", "test")) == 12
    saved = json.loads((cohort.parent / "c.splits-pooled.json").read_text())
    assert saved == result and saved["method"] == "pooled" and saved["seed"] == 3


def test_empty_split_names_which_and_how_many_subjects(cohort):
    # 2 subjects: int(0.8*2)=1 and int(0.9*2)=1, so validation gets nobody.
    with pytest.raises(InputError, match="the original split leaves val empty with 2 subjects"):
        make_splits(_two_subject_cohort(cohort), method="original")


def test_seed_is_still_accepted_as_the_old_name_of_original(cohort):
    assert make_splits(cohort, method="seed") == make_splits(cohort, method="original")
    assert make_splits(cohort, method="seed")["method"] == "original"


def _two_subject_cohort(cohort):
    path = cohort.parent / "two.h5"
    table = EpochTable(np.zeros(1), np.full(1, 30.0), np.zeros(1, np.int8))
    with CohortWriter(path, sfreq=10.0, source="test") as writer:
        for i in range(2):
            writer.add(StoredRecording(f"r{i}", np.arange(300.0), None, table, {"subject": f"p{i}", "subset": "SS3"}))
    return path


def test_cli_prints_and_saves(cohort, capsys):
    assert main([str(cohort), "--method", "kfold", "--k", "3", "--fold", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("train: 4 recordings") and (cohort.parent / "c.splits-kfold3-1.json").exists()
    assert main([str(cohort.parent / "missing.h5")]) == 2


def test_splits_are_saved_only_where_asked(cohort, tmp_path):
    before = sorted(p.name for p in cohort.parent.iterdir())
    make_splits(cohort, method="pooled")  # what training calls: nothing beside the cohort
    assert sorted(p.name for p in cohort.parent.iterdir()) == before
