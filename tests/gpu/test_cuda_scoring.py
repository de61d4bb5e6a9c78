"""Scoring on CUDA: evaluate.py and sleep_kd.predict agree with the CPU; for_scoring equals the plain network."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import train_loop
from tests.gpu.checks import (agreement, evaluate_probabilities, predict_probabilities, record_figure, scoring_gap,
                              trained_looking)
from tests.gpu.conftest import context_args, train_args

pytestmark = pytest.mark.cuda

SAME_CLASS_AT_LEAST = 0.995  # share of windows whose predicted class must match the CPU's


@pytest.fixture(scope="module")
def checkpoints(gpu_cohort, tmp_path_factory) -> dict[str, Path]:
    """EEG and ECG U-Times (40 steps) and an ECG context model (20 steps), trained in fp32 on CUDA."""
    runs = tmp_path_factory.mktemp("scoring-runs")
    found = {}
    for name, strategy, args, steps in (("eeg_base", "eeg_base", train_args, 40),
                                        ("ecg_base", "ecg_base", train_args, 40),
                                        ("context_ecg_base", "ecg_base", context_args, 20)):
        out = runs / name
        assert train_loop.main(["--strategy", strategy, *args(gpu_cohort, runs), "--out", str(out),
                                "--max-steps", str(steps), "--set", "train.log_every=1000"]) == 0
        found[name] = out / "last"
    return found


@pytest.fixture(scope="module")
def evaluated(checkpoints, tmp_path_factory) -> dict[str, tuple]:
    """Each checkpoint's evaluate.py softmax on the CPU and on CUDA (one fresh process per device)."""
    work, names = tmp_path_factory.mktemp("evaluate"), list(checkpoints)
    paths = [checkpoints[n] for n in names]
    on_cpu, on_cuda = (evaluate_probabilities(paths, cpu=cpu, work=work) for cpu in (True, False))
    return {name: (a, b) for name, a, b in zip(names, on_cpu, on_cuda)}


@pytest.mark.parametrize("name", ["eeg_base", "ecg_base", "context_ecg_base"])
def test_evaluate_on_cuda_predicts_the_cpu_classes(name, evaluated):
    same = agreement(*evaluated[name])
    record_figure("evaluate_cuda_vs_cpu", checkpoint=name, **same)
    assert same["same_fraction"] >= SAME_CLASS_AT_LEAST, same


@pytest.mark.parametrize("name", ["eeg_base", "ecg_base", "context_ecg_base"])
def test_predict_on_cuda_predicts_the_cpu_classes(name, checkpoints, gpu_cohort):
    same = agreement(predict_probabilities(checkpoints[name], gpu_cohort, cpu=True),
                     predict_probabilities(checkpoints[name], gpu_cohort, cpu=False))
    record_figure("predict_cuda_vs_cpu", checkpoint=name, **same)
    assert same["same_fraction"] >= SAME_CLASS_AT_LEAST, same


SCORED_NETWORKS = [("utime_seed", {}, (4, 1, 6000)), ("utime_small", {}, (8, 1, 3000)),
                   ("context_small", {"context_epochs": 8}, (2, 8, 1, 3000))]


@pytest.mark.parametrize("name, overrides, shape", SCORED_NETWORKS, ids=[n for n, _, _ in SCORED_NETWORKS])
def test_for_scoring_equals_the_plain_network_on_cuda(name, overrides, shape, restore_backends):
    """In strict float32 (TF32 off) to float rounding; the gap with TF32 on, as scoring runs, is recorded."""
    from sleep_kd.models import create_model

    torch.manual_seed(0)
    model = trained_looking(create_model(name, n_classes=4, **overrides))
    x = torch.randn(*shape)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    strict = scoring_gap(model, x, device="cuda")
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    tf32 = scoring_gap(model, x, device="cuda")
    record_figure("for_scoring_cuda", network=name, strict_fp32=strict, tf32=tf32)
    assert strict["max_abs_difference"] <= 1e-4 * max(1.0, strict["max_abs_logit"]), strict
