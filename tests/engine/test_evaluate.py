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
    predictions, dataset, _, _ = predict_checkpoint(two_runs / "ecg_base" / "best", split="all", cpu=True)
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
    assert capsys.readouterr().err.strip() == f"error: --data {tmp_path / 'no.h5'}: no such cohort file"


def test_precision_auto_follows_the_checkpoint_and_the_device(monkeypatch):
    from sleep_kd import hardware
    from sleep_kd.evaluation import precision

    monkeypatch.delenv(hardware.FORCE_ENV)
    monkeypatch.setattr(hardware, "cpu_runs_bf16_natively", lambda: True)
    assert precision.scoring_precision("auto", "bf16", cuda=False) == "bf16"
    assert precision.scoring_precision("auto", "no", cuda=False) == "no"
    assert precision.scoring_precision("auto", "fp16", cuda=False) == "no"
    assert precision.scoring_precision("auto", "fp16", cuda=True) == "fp16"
    assert precision.scoring_precision("no", "bf16", cuda=False) == "no"
    monkeypatch.setattr(hardware, "cpu_runs_bf16_natively", lambda: False)  # emulated bf16 is slower than fp32
    assert precision.scoring_precision("auto", "bf16", cuda=False) == "no"
    assert precision.scoring_precision("bf16", "no", cuda=False) == "bf16"  # asked for: done
    assert precision.trained_precision({"config": {"train": {"mixed_precision": "bf16"}}}) == "bf16"
    assert precision.trained_precision({"config": {"train": {}}}) == "no"
    assert precision.trained_precision({}) == "no"


def test_a_bf16_trained_checkpoint_scores_in_bf16_by_default(tiny_cohort, tmp_path, train_args, monkeypatch):
    from sleep_kd import hardware

    monkeypatch.setenv(hardware.FORCE_ENV, "1")
    assert train_loop.main(["--strategy", "ecg_base", "--mixed-precision", "bf16",
                            *train_args(tiny_cohort, tmp_path, "--max-steps", "2")]) == 0
    out = tmp_path / "report.json"
    assert evaluate.main([str(tmp_path / "tiny" / "4class" / "ecg_base" / "best"), "--split", "all",
                          "--json", str(out), "--cpu"]) == 0
    assert json.loads(out.read_text())["precision"] == "bf16"


def test_precision_fp16_on_the_cpu_is_refused(two_runs, capsys):
    assert evaluate.main([str(two_runs / "ecg_base" / "best"), "--precision", "fp16", "--cpu"]) == 2
    assert capsys.readouterr().err.strip() == "error: --precision fp16 needs a CUDA GPU; use bf16 or no on the CPU"


def test_bf16_scoring_reports_its_precision_and_scores_every_window(two_runs, tmp_path):
    fp32, bf16 = tmp_path / "fp32.json", tmp_path / "bf16.json"
    ckpt = str(two_runs / "eeg_base" / "best")
    assert evaluate.main([ckpt, "--split", "all", "--json", str(fp32), "--cpu", "--batch-size", "7"]) == 0
    assert evaluate.main([ckpt, "--split", "all", "--json", str(bf16), "--cpu", "--precision", "bf16"]) == 0
    a, b = json.loads(fp32.read_text()), json.loads(bf16.read_text())
    assert (a["precision"], b["precision"]) == ("no", "bf16")  # the tiny runs train in fp32
    assert a["n_epochs"] == b["n_epochs"] > 0


def test_batch_size_must_be_positive(two_runs, capsys):
    assert evaluate.main([str(two_runs / "ecg_base" / "best"), "--batch-size", "0", "--cpu"]) == 2
    assert capsys.readouterr().err.strip() == "error: --batch-size 0: expected an integer in [1, 65536]"


def test_probabilities_of_a_single_window_model(two_runs):
    plain = predict_checkpoint(two_runs / "ecg_base" / "best", split="all", cpu=True).predictions
    kept = predict_checkpoint(two_runs / "ecg_base" / "best", split="all", cpu=True, probabilities=True).predictions
    assert kept.probabilities.shape == (plain.y_pred.size, 4)
    assert np.array_equal(kept.probabilities.argmax(axis=1), plain.y_pred)
    assert np.allclose(kept.probabilities.sum(axis=1), 1.0, atol=1e-5)
