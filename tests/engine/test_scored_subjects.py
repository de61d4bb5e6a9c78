"""data.scored_subjects: a scored cohort imitates an unscored archive, nested, recorded, never in val/test."""

import json

import pytest

import train_loop
from sleep_kd.data.splits import make_splits, scored_subjects, unscored_recordings
from sleep_kd.errors import InputError


def _train(tiny_cohort):
    return make_splits(tiny_cohort, method="pooled", seed=42)["train"]


def test_the_scored_subjects_are_nested_and_drawn_from_the_split_seed(tiny_cohort):
    train = _train(tiny_cohort)
    two, four, eight = (set(scored_subjects(tiny_cohort, train, count=k, seed=42)) for k in (2, 4, 8))
    assert len(two) == 2 and len(four) == 4 and len(eight) == 8
    assert two < four < eight
    assert set(scored_subjects(tiny_cohort, train, count=0, seed=42)) == eight  # 0 = all 8 training subjects
    assert set(scored_subjects(tiny_cohort, train, count=4, seed=7)) != four  # another seed, another draw


def test_more_scored_subjects_than_the_split_holds_is_refused(tiny_cohort):
    with pytest.raises(InputError, match=r"^config key 'data.scored_subjects' is 9, more than the 8 subjects of the "
                                         r"training split of .*tiny.h5; allowed: 0 \(all\) to 8$"):
        scored_subjects(tiny_cohort, _train(tiny_cohort), count=9, seed=42)


def test_unscored_recordings_are_the_other_training_subjects_nights(tiny_cohort):
    train = _train(tiny_cohort)
    scored = scored_subjects(tiny_cohort, train, count=2, seed=42)
    unscored = unscored_recordings(tiny_cohort, train, scored)
    assert len(unscored) == 6 and set(unscored) < set(train)


def test_ecg_self_trains_through_the_entry_point_over_unscored_nights(tiny_cohort, tmp_path, train_args, capsys):
    """The ECG base (teacher) reads the 2 scored subjects only; ecg_self reads all 8, 6 of them unscored."""
    runs = tmp_path / "runs"
    out = runs / "self"
    assert train_loop.main(["--strategy", "ecg_self", *train_args(tiny_cohort, runs, "--out", str(out),
                                                                  "--set", "data.scored_subjects=2",
                                                                  "--max-steps", "2")]) == 0
    assert "ecg_self needs its teacher from 'ecg_base'" in capsys.readouterr().out
    splits = json.loads((out / "splits.json").read_text())
    teacher_splits = json.loads((out.parent / "ecg_base" / "splits.json").read_text())
    assert len(splits["scored_subjects"]) == 2 and len(splits["unscored_recordings"]) == 6
    assert teacher_splits["scored_subjects"] == splits["scored_subjects"] and teacher_splits["unscored_recordings"] == []
    assert not set(splits["unscored_recordings"]) & set(splits["val"] + splits["test"])
    record = json.loads((out / "best" / "config.json").read_text())
    assert record["data"]["scored_subjects"] == splits["scored_subjects"]
    assert record["data"]["unscored_recordings"] == splits["unscored_recordings"]
    teacher = json.loads((out / "best" / "config.json").read_text())["config"]["paths"]["teacher"]
    assert teacher.endswith("ecg_base/best")


def test_a_cohort_night_nobody_scored_only_ever_trains(tmp_path):
    """Recordings ingested with --unscored leave validation and test and join training as unscored."""
    import h5py

    from sleep_kd.data.ingest import ingest
    from sleep_kd.data.synthetic import generate_cohort
    from sleep_kd.engine.data import split_recordings, training_scoring
    from sleep_kd.engine.config import resolve_config
    from sleep_kd.strategies import get_strategy

    generate_cohort(tmp_path / "edf", n_subjects=10, hours=0.25, seed=7, sfreq=128.0)
    bases = sorted((tmp_path / "edf").rglob("* Base.edf"))
    for base in bases[:3]:
        base.unlink()
    cohort = tmp_path / "c.h5"
    summary = ingest("mass", tmp_path / "edf", cohort, sfreq=100, progress=False, unscored=True)
    nobody = set(summary.unscored)
    assert len(nobody) == 3
    config = resolve_config("kd_temp", set_pairs=[f"data.path={cohort}"])
    splits = split_recordings(cohort, config)
    assert not nobody & set(splits["val"] + splits["test"])
    scoring = training_scoring(cohort, splits["train"], config, get_strategy("kd_temp"))
    assert nobody & set(splits["train"]) <= set(scoring.unscored)
    base_scoring = training_scoring(cohort, splits["train"], config, get_strategy("ecg_base"))
    assert not nobody & set(base_scoring.recordings)
    with h5py.File(cohort) as handle:
        assert all(not handle["recordings"][rid].attrs["scored"] for rid in nobody)
