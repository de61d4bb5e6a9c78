"""``sleep-kd study demo_note``: the demo's closing lines carry the studies' intervals, never more."""

import json
import shutil
from pathlib import Path

import pytest

from sleep_kd.cli import main
from sleep_kd.studies.demo_note import budget_line, note
from sleep_kd.studies.results_page import Results

ROOT = Path(__file__).resolve().parents[2]


def change(mean: float, low: float, high: float, n: int = 4) -> dict:
    return {"mean": mean, "low": low, "high": high, "n": n}


def budget_entry(budget: int, vs_base: dict, vs_self: dict, *, causal: bool = False) -> dict:
    return {"budget": budget, "context_epochs": 20, "causal": causal, "arms": {},
            "kd_temp_minus_ecg_base_kappa": vs_base, "kd_temp_minus_ecg_self_kappa": vs_self}


def test_lines_quote_the_k_fold_study(tmp_path):
    shutil.copy(ROOT / "results" / "kd_study.json", tmp_path / "kd_study.json")
    text = note(Results(tmp_path))
    study = json.loads((ROOT / "results" / "kd_study.json").read_text())["summary"]["context20"]
    lift = study["ecg_base"]["change_vs_one_window"]["kappa"]
    assert f"{lift['mean']:+.3f} [{lift['low']:+.3f}, {lift['high']:+.3f}]" in text
    assert "its interval lies above zero" in text
    kd = study["kd_temp"]["change_vs_ecg_base"]["kappa"]
    assert f"KD-Temp - ECG base {kd['mean']:+.3f} [{kd['low']:+.3f}, {kd['high']:+.3f}]" in text
    assert "label_budget" not in text  # no label-budget result in the folder, no line about it


def test_budget_line_names_each_interval_clear_of_zero_and_no_mean_alone():
    changes = [budget_entry(4, change(0.10, -0.02, 0.22), change(0.05, 0.01, 0.09)),
               budget_entry(0, change(-0.02, -0.03, -0.01), change(0.0, -0.04, 0.04), causal=True),
               budget_entry(2, change(0.30, float("nan"), float("nan"), n=1), change(0.3, float("nan"), float("nan"), n=1))]
    line = budget_line({"rows": [], "changes": changes, "missing": [{"fold": 1}, {"fold": 2}]})
    assert "(K of the training subjects scored, K = 2, 4, all, 2 pieces not run yet): " in line
    assert ("KD-Temp - the ECG base: interval above zero at no K, below zero at K=all (context 20, causal): "
            "-0.020 [-0.030, -0.010]; KD-Temp - self-training: interval above zero at K=4 (context 20): "
            "+0.050 [+0.010, +0.090] (95 % intervals") in line
    assert "+0.100" not in line and "+0.300" not in line  # a mean whose interval spans zero, or one fold: not quoted


def test_a_complete_study_says_no_pieces_missing():
    line = budget_line({"rows": [], "changes": [budget_entry(8, change(0.05, 0.01, 0.09), change(0.04, 0.02, 0.06))],
                        "missing": []})
    assert "not run yet" not in line
    assert line.count("interval above zero at K=8 (context 20)") == 2


def test_missing_results_folder_is_one_line_exit_2(tmp_path, capsys):
    assert main(["study", "demo_note", "--results", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path / 'nowhere'}: no such folder (the results/*.json files; "
                   "run from the checkout's root)"]


def test_the_committed_results_give_every_line(capsys):
    assert main(["study", "demo_note", "--results", str(ROOT / "results")]) == 0
    out = capsys.readouterr().out
    assert out.count("[sleep_kd] ") == 3 + (ROOT / "results" / "label_budget.json").is_file()
