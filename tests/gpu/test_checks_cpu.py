"""The CUDA checks' own logic, run on the CPU: the same functions the cuda-marked tests call."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

import train_loop
from tests.gpu import checks
from tests.gpu.conftest import train_args


@pytest.fixture(scope="module")
def cpu_checkpoint(gpu_cohort, tmp_path_factory):
    """The tiny ECG U-Time trained 4 steps on the CPU: its ``last/`` folder."""
    out = tmp_path_factory.mktemp("cpu-runs") / "ecg_base"
    assert train_loop.main(["--strategy", "ecg_base", *train_args(gpu_cohort, out.parent, device="cpu"),
                            "--out", str(out), "--max-steps", "4"]) == 0
    return out / "last"


def test_agreement_counts_the_windows_whose_class_differs():
    reference = np.array([[0.7, 0.3], [0.4, 0.6], [0.5, 0.5 - 1e-3], [0.1, 0.9]], dtype=np.float32)
    other = reference.copy()
    other[2] = [0.5 - 1e-3, 0.5]  # a near-tie that tips over
    result = checks.agreement(reference, other)
    assert result == {"windows": 4, "same_fraction": 0.75, "different": 1,
                      "max_abs_difference": pytest.approx(1e-3, rel=1e-4)}
    assert checks.agreement(np.array([1, 2, 3]), np.array([1, 2, 0]))["different"] == 1


def test_agreement_refuses_scorings_of_different_windows():
    with pytest.raises(ValueError, match="differ in shape"):
        checks.agreement(np.zeros((3, 4)), np.zeros((2, 4)))


def test_evaluate_and_predict_probabilities_are_softmax_rows_of_every_scored_window(cpu_checkpoint, gpu_cohort,
                                                                                  tmp_path):
    evaluated, = checks.evaluate_probabilities([cpu_checkpoint], cpu=True, work=tmp_path)
    predicted = checks.predict_probabilities(cpu_checkpoint, gpu_cohort, cpu=True, recordings=1)
    for probabilities in (evaluated, predicted):
        assert probabilities.ndim == 2 and probabilities.shape[1] == 4
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert evaluated.shape[0] > 500  # every recording's scored windows (10 nights x 0.5 h)
    assert 60 <= predicted.shape[0] <= 63  # one night: 30 min scored plus its unscored tail, every 30-s epoch
    again, twice = checks.evaluate_probabilities([cpu_checkpoint] * 2, cpu=False, work=tmp_path)  # here the CPU too
    assert checks.agreement(evaluated, again)["same_fraction"] == 1.0 and np.array_equal(again, twice)


def test_scoring_gap_of_a_trained_looking_network_is_float_rounding_on_the_cpu():
    from sleep_kd.models import create_model

    torch.manual_seed(0)
    model = checks.trained_looking(create_model("utime_small", n_classes=4))
    gap = checks.scoring_gap(model, torch.randn(2, 1, 3000), device="cpu")
    assert 0 < gap["max_abs_logit"] and gap["max_abs_difference"] <= 1e-4 * max(1.0, gap["max_abs_logit"])


def test_sync_log_cuts_the_syncs_into_whole_steps_at_each_loss_check(gpu_cohort, tmp_path, monkeypatch):
    """A stand-in sync (the warning CUDA's debug mode raises) once per batch shows as one sync per step."""
    from sleep_kd.engine import trainer

    real = trainer.learning_rate

    def syncing_learning_rate(*args, **kwargs):
        warnings.warn(checks.SYNC_MESSAGE)
        return real(*args, **kwargs)
    monkeypatch.setattr(trainer, "learning_rate", syncing_learning_rate)
    with checks.counting_syncs(device_type="cpu") as log:
        assert train_loop.main(["--strategy", "ecg_base", *train_args(gpu_cohort, tmp_path, device="cpu"),
                                "--out", str(tmp_path / "run"), "--max-steps", "4"]) == 0
    assert log.per_step() == [1, 1, 1]  # 4 steps: 3 whole ones between their checks
    (where, count), = log.steady_locations().items()
    assert count == 1.0 and "tests/gpu/test_checks_cpu.py" in where and "sleep_kd/engine/trainer.py" in where
    assert trainer.check_finite.__name__ == "check_finite"  # the wrapper is gone


def test_a_step_without_a_gradient_scaler_is_taken_whatever_the_loss_scale(gpu_cohort, tmp_path):
    parts = checks.training_parts(gpu_cohort, tmp_path, precision="no", cpu=True)
    result = checks.overflow_step(*parts, factor=1e10)
    assert result == {"loss_finite": True, "weights_changed": True, "accelerate_says_skipped": False,
                      "scale_before": None, "scale_after": None}


def test_figures_are_appended_as_json_lines_where_the_environment_says(tmp_path, monkeypatch):
    target = tmp_path / "figures.jsonl"
    monkeypatch.setenv(checks.FIGURES_ENV, str(target))
    checks.record_figure("a", value=1)
    checks.record_figure("b", value=np.float32(0.5))
    assert [json.loads(line) for line in target.read_text().splitlines()] == [
        {"check": "a", "value": 1}, {"check": "b", "value": 0.5}]


def test_resume_check_finds_a_resumed_cpu_run_bit_equal(gpu_cohort, tmp_path):
    """The comparison the CUDA test makes, on the CPU (deterministic here already): three processes."""
    base = ["--strategy", "ecg_base", *train_args(gpu_cohort, tmp_path, "--epochs", "2", device="cpu",
                                                 batch_size=32), "--set", "train.windows_per_epoch=96"]
    report = checks.resume_against_uninterrupted(base, tmp_path, stop_at=2)
    assert report["return_codes"] == [0, 0, 0], report["errors"]
    assert report["stopped_at"] == 2 and report["resumed"]  # it went on mid-epoch, not from scratch
    assert report["weights_bit_equal"] and report["metrics_equal"]
