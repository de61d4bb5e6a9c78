"""sleep-kd study label_budget end to end on six short nights: one fold, K = 1 of 2 training subjects,
one window, context and the causal student; reused on a second call; bad arguments refused first."""

import json

import pytest

from sleep_kd.studies import label_budget

TINY = "model.overrides={filters: [4, 8], pool_sizes: [10, 6], bottleneck_filters: 16}"



def test_the_budget_study_trains_every_arm_pairs_them_and_reuses_its_rows(six_nights, tmp_path):
    args = ["--data", str(six_nights), "--folds", "3", "--only-folds", "0", "--budgets", "1", "--contexts", "0", "8",
            "--causal-budgets", "1", "--epochs", "1", "--set", TINY, "--set", "train.max_steps=1",
            "--set", "train.batch_size=16", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "b.json")]
    assert label_budget.main(args) == 0
    first = json.loads((tmp_path / "b.json").read_text())
    forms = {(r["context_epochs"], r["causal"], r["strategy"]) for r in first["rows"]}
    assert forms == {(c, causal, arm) for c, causal in ((0, False), (8, False), (8, True))
                     for arm in ("ecg_base", "ecg_self", "kd_temp")}
    assert all("kappa" in r["test"] and "f1_REM" in r["test"] for r in first["rows"])
    assert first["command"].startswith("sleep-kd study label_budget --data ") and first["machine"]["cores"] >= 1
    teacher_metrics = tmp_path / "runs" / "fold0" / "K1" / "context8" / "bidirectional" / "eeg_base" / "best" / "metrics.json"
    assert [(t["budget"], t["context_epochs"]) for t in first["teachers"]] == [(1, 0), (1, 8)]
    assert first["teachers"][1]["val_kappa"] == json.loads(teacher_metrics.read_text())["kappa"]
    assert first["train_seconds"] == pytest.approx(sum(r["fold_seconds"] for r in first["rows"]))
    record = json.loads((tmp_path / "runs" / "fold0" / "K1" / "context0" / "kd_temp" / "best" / "config.json").read_text())
    assert len(record["data"]["scored_subjects"]) == 1 and len(record["data"]["unscored_recordings"]) == 1
    teacher = json.loads((tmp_path / "runs" / "fold0" / "K1" / "context8" / "causal" / "kd_temp" / "best" /
                          "config.json").read_text())["config"]["paths"]["teacher"]
    assert teacher.endswith("context8/bidirectional/eeg_base/best")  # the causal student's teacher sees the future
    changes = {(c["context_epochs"], c["causal"]): c for c in first["changes"]}
    assert changes[(8, True)]["kd_temp_minus_ecg_self_kappa"]["n"] == 1
    assert label_budget.main(args) == 0  # the same settings again: every row is reused, nothing trains
    assert json.loads((tmp_path / "b.json").read_text())["rows"] == first["rows"]
    assert first["missing"] == []
    report_only = [a if a != "0" or args[i - 1] != "--only-folds" else "1" for i, a in enumerate(args)]
    assert label_budget.main([*report_only, "--report-only"]) == 0  # fold 1 never ran: listed, not trained
    partial = json.loads((tmp_path / "b.json").read_text())
    assert partial["rows"] == [] and len(partial["missing"]) == 3 and not (tmp_path / "runs" / "fold1").exists()
    _check_report(first, tmp_path)


def _check_report(result, tmp_path):
    """The table and the figure made from the study's JSON."""
    from sleep_kd.studies import label_budget_report

    table = label_budget_report.budget_table(result).splitlines()
    assert table[2].startswith("| student | K scored | folds | ECG base | ECG self-training | KD-Temp |")
    assert [row.split(" | ")[0] for row in table[4:]] == ["| one window", "| context 8", "| context 8, causal"]
    assert all(row.split(" | ")[1:3] == ["1", "1"] for row in table[4:])
    assert len(label_budget_report.stage_table(result).splitlines()) == 2 + 9
    out, saved = tmp_path / "figure.png", tmp_path / "first.json"
    saved.write_text(json.dumps(result))
    assert label_budget_report.main(["--result", str(saved), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_one_window_arms_limits_the_one_window_runs_to_those_asked(six_nights, tmp_path):
    args = ["--data", str(six_nights), "--folds", "3", "--only-folds", "0", "--budgets", "1", "--contexts", "0",
            "--causal-budgets", "--one-window-arms", "ecg_base", "--epochs", "1", "--set", TINY,
            "--set", "train.max_steps=1", "--set", "train.batch_size=16",
            "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "b.json")]
    assert label_budget.main(args) == 0
    rows = json.loads((tmp_path / "b.json").read_text())["rows"]
    assert [r["strategy"] for r in rows] == ["ecg_base"]
    folder = tmp_path / "runs" / "fold0" / "K1" / "context0"
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["ecg_base", "eeg_base"]
    assert json.loads((folder / "rows.json").read_text())["settings"]["arms"] == ["ecg_base"]


@pytest.mark.parametrize("extra, message", [
    (["--folds", "2"], "--folds must be at least 3, got 2"),
    (["--budgets", "-1"], "--budgets takes numbers >= 0, got -1"),
    (["--causal-budgets", "4"], "--causal-budgets [4] are not among --budgets [2]"),
])
def test_bad_arguments_are_refused_before_any_training(six_nights, tmp_path, capsys, extra, message):
    args = ["--data", str(six_nights), "--budgets", "2", "--runs", str(tmp_path / "runs"), *extra]
    assert label_budget.main(args) == 2
    assert capsys.readouterr().err.strip() == f"error: {message}"
    assert not (tmp_path / "runs").exists()
