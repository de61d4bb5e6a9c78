"""Evaluation figures: agree with sklearn and with hand-counted examples."""

import numpy as np
from sklearn.metrics import cohen_kappa_score, f1_score

from sleep_kd.evaluation.report import format_comparison
from sleep_kd.metrics.scores import score_predictions, spread

NAMES = ("W", "Light", "Deep", "REM")


def test_report_on_a_hand_counted_example():
    y_true = np.array([0, 0, 1, 1, 2, 3])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    report = score_predictions(y_true, y_pred, class_names=NAMES, subjects=np.array(["a", "a", "a", "b", "b", "b"]))
    assert report["accuracy"] == 4 / 6
    assert report["confusion_matrix"] == [[1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]]
    assert report["per_class"]["Light"] == {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2}
    assert report["kappa"] == cohen_kappa_score(y_true, y_pred)
    assert report["macro_f1"] == f1_score(y_true, y_pred, average="macro")
    assert [row["subject"] for row in report["per_subject"]] == ["a", "b"]
    assert report["per_subject"][0]["n_epochs"] == 3 and report["per_subject"][0]["accuracy"] == 2 / 3


def test_kappa_of_a_single_class_night_is_defined():
    report = score_predictions(np.zeros(5, int), np.zeros(5, int), class_names=NAMES)
    assert report["kappa"] == 1.0


def test_spread_gives_median_and_iqr():
    assert spread([0.1, 0.2, 0.3, 0.4, 0.5]) == {"median": 0.3, "iqr": 0.2, "min": 0.1, "max": 0.5}


def test_comparison_shows_the_change_against_the_ecg_base():
    base = {"strategy": "ecg_base", "accuracy": 0.5, "kappa": 0.4, "macro_f1": 0.4, "weighted_f1": 0.5}
    kd = {"strategy": "feat_temp", "accuracy": 0.6, "kappa": 0.5, "macro_f1": 0.5, "weighted_f1": 0.55}
    table = format_comparison([kd, base])
    lines = table.splitlines()
    assert lines[2].startswith("ECG base") and lines[3].startswith("Feat-Temp (AT+SD+CL)")
    assert lines[3].rstrip().endswith("+0.1000     +10.0")
