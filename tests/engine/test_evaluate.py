"""evaluate.py: the contract's JSON keys, kappa as sklearn computes it, the comparison table."""

import json

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score, f1_score

import evaluate
import train_loop
from sleep_kd.evaluation.scoring import predict_checkpoint

KEYS = {"accuracy", "kappa", "macro_f1", "weighted_f1", "n_epochs", "classes", "per_class", "confusion_matrix",
        "per_subject"}


@pytest.fixture(scope="module")
def two_runs(tiny_cohort, tmp_path_factory, train_args):
    runs = tmp_path_factory.mktemp("eval")
    for strategy in ("eeg_base", "ecg_base"):
        assert train_loop.main(["--strategy", strategy, *train_args(tiny_cohort, runs, "--max-steps", "6")]) == 0
    return runs / "tiny" / "4class"


def test_json_report_has_the_contract_keys_and_sklearn_kappa(two_runs, tmp_path):
    out = tmp_path / "report.json"
    assert evaluate.main([str(two_runs / "ecg_base" / "best"), "--split", "all", "--json", str(out), "--cpu"]) == 0
    report = json.loads(out.read_text())
    assert KEYS <= set(report)
    assert report["classes"] == ["W", "Light", "Deep", "REM"]
    assert set(report["per_class"]["W"]) == {"precision", "recall", "f1", "support"}
    assert set(report["per_subject"][0]) == {"subject", "n_epochs", "accuracy", "kappa", "macro_f1"}
    predictions, dataset, _ = predict_checkpoint(two_runs / "ecg_base" / "best", split="all", cpu=True)
    assert report["n_epochs"] == len(dataset) == sum(r["n_epochs"] for r in report["per_subject"])
    assert report["kappa"] == cohen_kappa_score(predictions.y_true, predictions.y_pred)
    assert report["weighted_f1"] == pytest.approx(
        f1_score(predictions.y_true, predictions.y_pred, average="weighted", labels=[0, 1, 2, 3], zero_division=0))
    assert np.array(report["confusion_matrix"]).sum() == report["n_epochs"]


def test_compare_prints_the_papers_table(two_runs, capsys):
    assert evaluate.main([str(two_runs / "eeg_base" / "best"), "--compare", str(two_runs / "ecg_base" / "best"),
                          "--cpu"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("model "):].splitlines()
    assert table[2].startswith("EEG base") and table[3].startswith("ECG base")
    assert table[3].split()[-2:] == ["+0.0000", "+0.0"]  # the ECG base against itself


def test_evaluate_refuses_a_missing_cohort(two_runs, tmp_path, capsys):
    assert evaluate.main([str(two_runs / "ecg_base" / "best"), "--data", str(tmp_path / "no.h5")]) == 2
    assert capsys.readouterr().err.strip() == f"error: cohort file {tmp_path / 'no.h5'} does not exist (pass --data FILE.h5)"
