"""train_loop.py with night context: every strategy, reload, resume, a single-window teacher, two processes."""

import json
from pathlib import Path

import pytest
import torch

from tests.engine.test_multiprocess import torchrun

import train_loop
from sleep_kd.engine.restore import model_from_checkpoint
from sleep_kd.evaluation.scoring import evaluate_checkpoint
from sleep_kd.strategies import list_strategies

ROOT = Path(__file__).resolve().parents[2]


def run_dir(runs: Path, strategy: str) -> Path:
    return runs / "tiny" / "4class" / strategy


@pytest.fixture(scope="module")
def chain(tiny_cohort, tmp_path_factory, context_args):
    """Every strategy two steps with context, through the entry point (feat_temp trains its prerequisites)."""
    runs = tmp_path_factory.mktemp("runs")
    codes = {s: train_loop.main(["--strategy", s, *context_args(tiny_cohort, runs, "--max-steps", "2")])
             for s in ["feat_temp", *[s for s in list_strategies() if s != "feat_temp"]]}
    return runs, codes


def test_every_strategy_runs_two_steps_with_context(chain):
    runs, codes = chain
    assert codes == dict.fromkeys(codes, 0) and set(codes) == set(list_strategies())
    for strategy in list_strategies():
        folder = run_dir(runs, strategy)
        metrics = json.loads((folder / "last" / "metrics.json").read_text())
        assert metrics["step"] == 2 and 0.0 <= metrics["accuracy"] <= 1.0
        record = json.loads((folder / "best" / "config.json").read_text())
        assert record["model"]["context_epochs"] == 8 and record["data"]["context_epochs"] == 8


def test_the_teacher_has_the_students_context_by_default(chain):
    runs, _ = chain
    record = json.loads((run_dir(runs, "feat_temp") / "best" / "config.json").read_text())
    teacher, _ = model_from_checkpoint(record["config"]["paths"]["teacher"])
    assert teacher.config["context_epochs"] == 8 and teacher.config["name"] == "context_small"


def test_reloaded_context_checkpoint_gives_identical_predictions(chain):
    runs, _ = chain
    model, record = model_from_checkpoint(run_dir(runs, "feat_temp") / "best")
    again, _ = model_from_checkpoint(run_dir(runs, "feat_temp") / "best")
    x = torch.rand(2, 8, 1, model.n_times)
    assert model(x).shape == (2, 8, 4)
    assert torch.equal(model(x), again(x))


def test_validation_counts_each_scored_epoch_once(chain, tiny_cohort):
    runs, _ = chain
    report = evaluate_checkpoint(run_dir(runs, "ecg_base") / "best", split="val", cpu=True)
    from sleep_kd.data.dataset import CohortWindows
    from sleep_kd.data.splits import make_splits

    val = make_splits(tiny_cohort, method="pooled", seed=42, k=5, fold=0)["val"]
    assert report["n_epochs"] == len(CohortWindows(tiny_cohort, n_classes=4, recordings=val, modalities=("ecg",)))


def test_a_single_window_teacher_is_possible(tiny_cohort, tmp_path, context_args):
    teacher = tmp_path / "eeg"
    tiny_window = "model.overrides={filters: [4, 8], pool_sizes: [10, 6], bottleneck_filters: 16}"
    assert train_loop.main(["--strategy", "eeg_base", "--data", str(tiny_cohort), "--cpu", "--batch-size", "16",
                            "--epochs", "1", "--max-steps", "2", "--set", tiny_window, "--out", str(teacher),
                            "--runs", str(tmp_path)]) == 0
    for strategy in ("feat_train", "kd_temp"):
        assert train_loop.main(["--strategy", strategy, *context_args(tiny_cohort, tmp_path, "--max-steps", "2",
                                                                      "--teacher", str(teacher / "best"))]) == 0


def test_a_one_window_teacher_found_beside_a_context_run_is_refused_not_used(tiny_cohort, tmp_path, context_args,
                                                                             capsys):
    tiny_window = "model.overrides={filters: [4, 8], pool_sizes: [10, 6], bottleneck_filters: 16}"
    assert train_loop.main(["--strategy", "eeg_base", "--data", str(tiny_cohort), "--cpu", "--batch-size", "16",
                            "--epochs", "1", "--max-steps", "2", "--set", tiny_window, "--runs", str(tmp_path)]) == 0
    capsys.readouterr()
    assert train_loop.main(["--strategy", "kd_temp", *context_args(tiny_cohort, tmp_path, "--max-steps", "2")]) == 2
    teacher = run_dir(tmp_path, "eeg_base") / "best"
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: {teacher}: the teacher found for this run is utime_small, but this run trains context_small "
        "with 8 epochs of context; give --teacher CKPT to use it anyway, or another --runs folder")
    assert not run_dir(tmp_path, "kd_temp").exists()


def test_stopped_then_resumed_equals_uninterrupted(tiny_cohort, tmp_path, context_args):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    common = ("--epochs", "2", "--batch-size", "64", "--set", "train.save_state_every=1")
    assert train_loop.main(["--strategy", "ecg_base", *context_args(tiny_cohort, tmp_path, "--out", str(whole),
                                                                    *common)]) == 0
    assert train_loop.main(["--strategy", "ecg_base", *context_args(tiny_cohort, tmp_path, "--out", str(parts),
                                                                    *common, "--max-steps", "5")]) == 0
    progress = json.loads((parts / "state" / "progress.json").read_text())
    assert progress["epoch"] == 0 and progress["batches_done"] == 5  # stopped inside the first epoch
    assert train_loop.main(["--strategy", "ecg_base", "--resume", str(parts), "--max-steps", "0"]) == 0
    for name in ("last", "best"):
        assert (parts / name / "model.safetensors").read_bytes() == (whole / name / "model.safetensors").read_bytes()
        assert json.loads((parts / name / "metrics.json").read_text()) == \
            json.loads((whole / name / "metrics.json").read_text())


def test_two_process_gathered_validation_equals_one_process(tiny_cohort, tmp_path, context_args):
    out = tmp_path / "ddp"
    result = torchrun("train_loop.py", "--strategy", "ecg_base",
                      *context_args(tiny_cohort, tmp_path, "--out", str(out), "--max-steps", "2"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 process(es)" in result.stdout
    logged = json.loads((out / "last" / "metrics.json").read_text())
    alone = evaluate_checkpoint(out / "last", split="val", cpu=True)
    assert alone["n_epochs"] > 0
    for key in ("accuracy", "kappa", "macro_f1", "weighted_f1"):
        assert logged[key] == pytest.approx(alone[key], abs=1e-12), key


def test_probabilities_are_kept_per_scored_epoch_when_asked(chain):
    """predict_checkpoint(probabilities=True): one softmax row per counted epoch, its argmax the prediction."""
    import numpy as np

    from sleep_kd.evaluation.scoring import predict_checkpoint

    runs, _ = chain
    plain = predict_checkpoint(run_dir(runs, "kd_temp") / "best", split="val", cpu=True).predictions
    kept = predict_checkpoint(run_dir(runs, "kd_temp") / "best", split="val", cpu=True,
                              probabilities=True).predictions
    assert plain.probabilities is None
    assert kept.probabilities.shape == (kept.y_true.size, 4) and kept.probabilities.dtype == np.float32
    assert np.allclose(kept.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(kept.probabilities.argmax(axis=1), kept.y_pred)
    assert np.array_equal(kept.y_pred, plain.y_pred) and np.array_equal(kept.epoch, plain.epoch)
