"""sleep-kd study kd_study end to end on six short nights: two folds of three, with and without context, a grid.

(``data.split: kfold`` needs k >= 3: a test, a validation and a training fold; two of the three run.)"""

import json
from pathlib import Path

import pytest

from sleep_kd.errors import InputError
from sleep_kd.studies import at_probe, kd_study, study_tables, teacher_signal
from sleep_kd.studies.common import interval
from sleep_kd.studies.grid import parse_grid
from sleep_kd.studies.kd_summary import STUDENTS, second_half_drop

ROOT = Path(__file__).resolve().parents[2]

TINY = "model.overrides={filters: [4, 8], pool_sizes: [10, 6], bottleneck_filters: 16}"



@pytest.fixture(scope="module")
def study(six_nights, tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    truth = six_nights.parent / "edf" / "truth"
    args = ["--data", str(six_nights), "--folds", "3", "--only-folds", "0", "1", "--contexts", "0", "8",
            "--epochs", "1", "--grid", "sd.temperature=1,4", "--set", TINY, "--set", "train.max_steps=1",
            "--set", "train.batch_size=16", "--runs", str(out / "runs"), "--out", str(out / "study.json"),
            "--one-window-students", "ecg_base", "kd_temp"]
    if truth.is_dir():
        args += ["--truth", str(truth)]
    assert kd_study.main(args) == 0
    first = json.loads((out / "study.json").read_text())
    assert kd_study.main(args) == 0  # the same settings again: every fold's rows are reused, nothing trains
    again = json.loads((out / "study.json").read_text())
    assert again["rows"] == first["rows"] and again["seconds"] < first["seconds"] / 5
    first["runs_folder"] = out / "runs"
    return first


def test_every_strategy_in_every_fold_and_context(study):
    seen = {(r["fold"], r["context_epochs"], r["strategy"]) for r in study["rows"]}
    assert seen == {(f, 8, s) for f in (0, 1) for s in ("eeg_base", *STUDENTS)} | \
        {(f, 0, s) for f in (0, 1) for s in ("eeg_base", "ecg_base", "kd_temp")}
    for row in study["rows"]:
        assert set(kd_study.METRICS) <= set(row["test"])
        assert {"true_kappa", "true_weighted_f1", "true_macro_f1"} <= set(row["test"])  # the generator's truth/
        if row["strategy"] in ("kd_temp", "feat_temp"):
            assert row["options"]["sd.temperature"] in ("1", "4")  # chosen on validation


def test_paired_changes_over_folds(study):
    rows = {(r["fold"], r["context_epochs"], r["strategy"]): r["test"]["kappa"] for r in study["rows"]}
    change = study["summary"]["context8"]["kd_temp"]["change_vs_ecg_base"]["kappa"]
    diffs = [rows[(f, 8, "kd_temp")] - rows[(f, 8, "ecg_base")] for f in (0, 1)]
    assert change["mean"] == pytest.approx(sum(diffs) / 2) and change["n"] == 2
    assert change["low"] <= change["mean"] <= change["high"]
    assert "change_vs_one_window" in study["summary"]["context8"]["ecg_base"]


def test_every_tried_option_is_scored_and_paired(study):
    row = next(r for r in study["rows"] if (r["fold"], r["context_epochs"], r["strategy"]) == (1, 8, "kd_temp"))
    assert [c["options"]["sd.temperature"] for c in row["tried"]] == ["1", "4"]
    chosen = next(c for c in row["tried"] if c["options"] == row["options"])
    assert chosen["test"] == row["test"] and chosen["val_kappa"] == row["val_kappa"]
    assert chosen["val_kappa"] == max(c["val_kappa"] for c in row["tried"])
    base = {r["fold"]: r["test"]["kappa"] for r in study["rows"] if (r["context_epochs"], r["strategy"]) == (8, "ecg_base")}
    per = study["summary"]["context8"]["kd_temp"]["per_option"]
    assert [o["options"] for o in per] == [{"sd.temperature": "1"}, {"sd.temperature": "4"}]
    runs = [r for r in study["rows"] if (r["context_epochs"], r["strategy"]) == (8, "kd_temp")]
    diffs = [next(c for c in r["tried"] if c["options"]["sd.temperature"] == "4")["test"]["kappa"] - base[r["fold"]]
             for r in runs]
    assert per[1]["change_vs_ecg_base"]["kappa"]["mean"] == pytest.approx(sum(diffs) / len(diffs))
    assert "ecg_base" not in study["summary"]["context8"] or "per_option" not in study["summary"]["context8"]["ecg_base"]
    text = study_tables.tables(study)
    assert text.count("KD-Temp (SD+CL) with each option tried") == 2  # one window and context 8
    assert f"| temperature=4 | {per[1]['val_kappa']['mean']:.3f} | {study_tables.cell(per[1]['change_vs_ecg_base']['kappa'])} |" in text


def test_tables_render_from_the_json(study):
    text = study_tables.tables(study)
    assert "**one 30-s window**" in text and "**8 epochs of context (4 min)**" in text
    assert text.count("| KD-Temp (SD+CL) |") == 2 and text.count("| Feat-WCE (AT+CL) |") == 1


def test_label_noise_table_has_a_row_per_agreement_and_context(study):
    text = study_tables.noise_table([("0.7", study), ("1.0", study)])
    rows = [line for line in text.splitlines()[2:]]
    assert [r.split(" | ")[0:2] for r in rows] == [["| 0.7", "one window"], ["| 0.7", "8 epochs"],
                                                  ["| 1.0", "one window"], ["| 1.0", "8 epochs"]]
    change = study["summary"]["context8"]["kd_temp"]["change_vs_ecg_base"]["kappa"]
    assert study_tables.cell(change) in rows[1]
    chosen = "; ".join(f"temperature={o['sd.temperature']}" for o in study["summary"]["context8"]["kd_temp"]["options"])
    assert rows[1].endswith(f"| {chosen} |")


def test_validation_history_and_its_second_half_drop(study):
    # Every run here stops at its first step (train.max_steps=1), inside its first epoch: that validation is not
    # one of the schedule's, so no run has a history and no drop can be measured.
    assert all(row["val_history"] == [] for row in study["rows"])
    drops = study["summary"]["context8"]["kd_temp"]["val_second_half_drop"]
    assert len(drops) == 2 and all(d != d for d in drops)  # NaN
    assert second_half_drop([0.1, 0.5, 0.45, 0.3]) == pytest.approx(0.2)  # best 0.5, worst late 0.3
    assert second_half_drop([0.6, 0.2, 0.5, 0.55]) == pytest.approx(0.1)  # an early best counts


def test_interval_of_known_values():
    got = interval([0.1, 0.3])
    assert got["mean"] == pytest.approx(0.2) and got["high"] - got["mean"] == pytest.approx(12.706205 * 0.1, rel=1e-5)


def test_bad_grid_is_refused():
    with pytest.raises(InputError, match="--grid 'ce.x=1': expected sd.OPTION=V1,V2 or at.OPTION=V1,V2"):
        parse_grid(["ce.x=1"])


def test_context_runs_start_from_the_folds_one_window_runs(study):
    for fold in (0, 1):
        one, ctx = (study["runs_folder"] / f"fold{fold}" / f"context{t}" for t in (0, 8))
        started = {}
        for run in ("eeg_base", "ecg_base", "kd_temp-0", "feat_train-0", "feat_wce-0"):
            record = json.loads((ctx / run / "best" / "config.json").read_text())["config"]["paths"]
            started[run] = (record["encoder_init"], record["init"])
        assert started["eeg_base"] == (str(one / "eeg_base" / "best"), None)
        for run in ("ecg_base", "kd_temp-0", "feat_train-0"):
            assert started[run] == (str(one / "ecg_base" / "best"), None)
        assert started["feat_wce-0"][1] == str(ctx / "feat_train-0" / "best")  # the whole model from feat_train


def test_a_warm_start_needs_the_one_window_runs_first(six_nights, tmp_path, capsys):
    args = ["--data", str(six_nights), "--folds", "3", "--only-folds", "0", "--contexts", "8", "--epochs", "1",
            "--set", TINY, "--set", "train.max_steps=1", "--runs", str(tmp_path / "runs"),
            "--out", str(tmp_path / "study.json"), "--students", "ecg_base"]
    assert kd_study.main(args) == 2
    one = tmp_path / "runs" / "fold0" / "context0" / "ecg_base" / "best"
    assert capsys.readouterr().err == (f"error: kd_study: fold 0, context 8 starts from the one-window ecg_base at "
                                       f"{one}, which is not there; add 0 to --contexts, or pass --no-warm-start\n")
    assert not (tmp_path / "study.json").exists()


def test_the_one_window_teacher_is_trained_when_only_a_context_student_learns_from_it():
    from types import SimpleNamespace

    args = SimpleNamespace(students=["ecg_base", "kd_temp"], one_window_students=["ecg_base"], contexts=[0, 20],
                           warm_start=True)
    assert kd_study.needs_teacher(20, args)  # kd_temp at context 20
    assert kd_study.needs_teacher(0, args)  # its teacher starts from the one-window eeg_base
    assert not kd_study.needs_teacher(0, SimpleNamespace(**{**vars(args), "warm_start": False}))
    assert not kd_study.needs_teacher(0, SimpleNamespace(**{**vars(args), "students": ["ecg_base"]}))


def test_teacher_signal_of_the_study_folder(study, tmp_path):
    import numpy as np

    out = tmp_path / "signal.json"
    truth = Path(json.loads((study["runs_folder"] / "fold0" / "context8" / "eeg_base" / "best" / "config.json")
                            .read_text())["data"]["path"]).parent / "edf" / "truth"
    assert teacher_signal.main([str(study["runs_folder"]), "--context", "8", "--truth", str(truth),
                                "--splits", "test", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["folds"] == ["fold0", "fold1"]
    for fold in report["per_fold"]["test"]:
        assert fold["epochs"] > 0
        for key in ("scored_agree_true", "teacher_agree_scored", "teacher_agree_true", "teacher_spoils",
                    "teacher_ece_vs_scored", "teacher_entropy_t1", "teacher_entropy_t4"):
            assert 0.0 <= fold[key] <= 1.0, key
        assert fold["teacher_entropy_t4"] >= fold["teacher_entropy_t1"]  # softening never sharpens
        assert set(fold) >= {"ecg_base", "kd_temp-0", "kd_temp-1"}  # the grid's two temperatures
    mean = report["summary"]["test"]["teacher_agree_true"]
    assert mean == pytest.approx(np.mean([f["teacher_agree_true"] for f in report["per_fold"]["test"]]))


def test_at_probe_of_the_study_folder(study, tmp_path):

    out = tmp_path / "probe.json"
    truth = Path(json.loads((study["runs_folder"] / "fold0" / "context8" / "eeg_base" / "best" / "config.json")
                            .read_text())["data"]["path"]).parent / "edf" / "truth"
    assert at_probe.main([str(study["runs_folder"]), "--context", "8", "--train-windows", "100", "--truth", str(truth),
                          "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["folds"] == ["fold0", "fold1"]
    for fold in report["per_fold"]:
        assert fold["train_windows"] == 100 and fold["test_windows"] > 0
        assert {"probe_kappa_vs_scored", "probe_kappa_vs_true"} == set(fold["eeg_teacher"])
        for name in ("ecg_base", "feat_train-0", "untrained"):
            distances = [fold[name][f"at_distance_{g}"] for g in at_probe.GROUPS]
            assert all(d >= 0 for d in distances) and any(d > 0 for d in distances)
            assert -1 <= fold[name]["probe_kappa_vs_true"] <= 1
    mean = report["summary"]["untrained"]["at_distance_encoder"]
    assert mean == pytest.approx(sum(f["untrained"]["at_distance_encoder"] for f in report["per_fold"]) / 2)


def test_at_probe_distance_of_known_maps_and_its_refusals(tmp_path, capsys):
    import numpy as np

    student = {g: [np.array([[1.0, 0.0]]), np.array([[0.6, 0.8]])] for g in at_probe.GROUPS}
    teacher = {g: [np.array([[0.0, 1.0]]), np.array([[0.6, 0.8]])] for g in at_probe.GROUPS}
    assert at_probe.map_distance(student, teacher) == {g: pytest.approx(0.5) for g in at_probe.GROUPS}  # (1 + 0) / 2
    assert at_probe.main([str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"error: {tmp_path}: no fold*/context20 with eeg_base/best and feat_train-*/best "
                                       "(a kd_study runs folder that trained feat_train?)\n")
