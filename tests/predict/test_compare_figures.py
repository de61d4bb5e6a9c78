"""evaluate.py --compare: one row per checkpoint, the case analysis, and --figures."""

import json
import shutil

import matplotlib.image
import numpy as np
import pytest

import evaluate
from sleep_kd.evaluation.cases import case_analysis
from sleep_kd.evaluation.report import format_comparison, row_labels


def _report(strategy, checkpoint, kappa=0.5):
    return {"strategy": strategy, "checkpoint": checkpoint, "accuracy": 0.5, "kappa": kappa, "macro_f1": 0.4,
            "weighted_f1": 0.5}


def test_two_checkpoints_of_one_strategy_are_two_rows_told_apart_by_folder():
    reports = [_report("ecg_base", "runs/a/4class/ecg_base/best", 0.40), _report("feat_temp", "runs/a/x/best"),
               _report("ecg_base", "runs/b/4class/ecg_base/best", 0.45)]
    assert row_labels(reports) == ["ECG base [a]", "Feat-Temp (AT+SD+CL)", "ECG base [b]"]
    table = format_comparison(reports).splitlines()
    rows = [line for line in table if line.startswith(("ECG base", "Feat-Temp"))]
    assert [r.split("  ")[0] for r in rows] == ["ECG base [a]", "ECG base [b]", "Feat-Temp (AT+SD+CL)"]
    assert rows[1].split()[-2] == "+0.0500"  # the second ECG base against the first
    assert "against the ECG base (ECG base [a])" in table[-1]


def test_checkpoints_of_one_strategy_and_two_models_are_told_apart_by_model():
    reports = [{**_report("ecg_base", "runs/context_small/x/4class/ecg_base/best"), "model": "context_small"},
               {**_report("ecg_base", "runs/x/4class/ecg_base/best"), "model": "utime_small"}]
    assert row_labels(reports) == ["ECG base [context_small]", "ECG base [utime_small]"]
    reports[0]["checkpoint"], reports[1]["checkpoint"] = "runs/a/4class/ecg_base/best", "runs/b/4class/ecg_base/best"
    reports[1]["model"] = "context_small"  # one model twice: the folders tell them apart again
    assert row_labels(reports) == ["ECG base [a]", "ECG base [b]"]


def test_the_same_checkpoint_twice_is_still_two_rows():
    reports = [_report("ecg_base", "runs/a/best"), _report("ecg_base", "runs/a/best")]
    labels = row_labels(reports)
    assert len(set(labels)) == 2 and labels[0].startswith("ECG base")


def test_case_counts_on_known_predictions():
    y = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    base = np.array([0, 1, 1, 0, 2, 2, 0, 0])  # right on 0, 2, 4, 5
    student = np.array([1, 1, 1, 1, 2, 0, 3, 0])  # right on 2, 3, 4, 6
    cases = case_analysis(y, base, student, ("W", "Light", "Deep", "REM"))
    assert (cases["case1"], cases["case2"], cases["net_gain"]) == (2, 2, 0)  # 3, 6 gained; 0, 5 lost
    assert cases["case1_rate"] == 0.25 and cases["case1_of_base_errors"] == 0.5
    assert cases["per_class"]["REM"]["case1"] == 1 and cases["per_class"]["W"]["case2"] == 1
    assert cases["per_class"]["Deep"]["case2_of_base_correct"] == 0.5


@pytest.fixture(scope="module")
def three_checkpoints(tiny_runs, tiny_cohort, tmp_path_factory):
    """ecg_base, a copy of it in another folder, and eeg_base (a copy labelled as a student)."""
    import train_loop
    from tests.engine.conftest import _train_args

    runs = tmp_path_factory.mktemp("kd-run")
    assert train_loop.main(["--strategy", "kd_temp", "--teacher", str(tiny_runs / "eeg_base" / "best"),
                            *_train_args(tiny_cohort, runs, "--max-steps", "3")]) == 0
    other = tmp_path_factory.mktemp("second") / "ecg_base" / "best"
    shutil.copytree(tiny_runs / "ecg_base" / "best", other)
    return [tiny_runs / "ecg_base" / "best", other, runs / "tiny" / "4class" / "kd_temp" / "best",
            tiny_runs / "eeg_base" / "best"]


def test_compare_with_figures_writes_the_embedding_cases_and_confusions(three_checkpoints, tmp_path, capsys):
    base, copy, student, eeg = three_checkpoints
    out = tmp_path / "figures"
    report_file = tmp_path / "all.json"
    assert evaluate.main([str(base), "--compare", str(copy), str(student), str(eeg), "--split", "all", "--cpu",
                          "--figures", str(out), "--json", str(report_file), "--max-points", "300"]) == 0
    printed = capsys.readouterr().out
    table = printed[printed.index("model "):].splitlines()
    assert sum(line.startswith("ECG base [") for line in table) == 2  # both ECG bases shown
    assert any(line.startswith("KD-Temp (SD+CL)") for line in table)
    assert "KD-Temp (SD+CL) against ECG base [" in printed and "case 1 (student right, ECG base wrong)" in printed
    reports = json.loads(report_file.read_text())
    assert len(reports) == 4 and "cases" not in reports[0] and "cases" not in reports[3]
    cases = reports[2]["cases"]
    assert cases["against"] == str(base) and cases["n_epochs"] == reports[0]["n_epochs"]
    assert sum(row["case1"] for row in cases["per_class"].values()) == cases["case1"]
    names = sorted(p.name for p in out.iterdir())
    assert "embedding.png" in names and sum(n.startswith("confusion-") for n in names) == 4
    image = matplotlib.image.imread(out / "embedding.png")
    assert image.shape[1] > 3 * image.shape[0]  # four panels side by side


def test_figures_folder_that_is_a_file_is_refused_before_scoring(three_checkpoints, tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("")
    assert evaluate.main([str(three_checkpoints[0]), "--figures", str(target), "--cpu"]) == 2
    assert capsys.readouterr().err.strip() == f"error: --figures {target}: {target} is a file, expected a folder"


def test_tensorboard_gets_the_embedding_once_per_validation(tiny_runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tiny_runs / "ecg_base" / "tensorboard"))
    events.Reload()
    validations = [e.step for e in events.Scalars("val/kappa")]
    images = events.Images("val/embedding")
    assert validations and [image.step for image in images] == validations
    assert images[0].width > 200 and images[0].height > 200
