"""Training on CUDA: every strategy in fp32, bf16 and fp16, the context model, the fp16 scaler, host syncs."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
import yaml

import train_loop
from tests.gpu.checks import counting_syncs, overflow_step, record_figure, training_parts
from tests.gpu.conftest import context_args, train_args

pytestmark = pytest.mark.cuda

STRATEGIES = ("eeg_base", "ecg_base", "feat_train", "feat_temp", "feat_wce", "kd_temp")  # prerequisites first
PRECISIONS = ("no", "bf16", "fp16")  # train.mixed_precision: fp32 (TF32 matmuls), bf16 autocast, fp16 + scaler


def train_few_steps(strategy: str, args: list[str], out: Path, *, steps: int, precision: str, capsys) -> float:
    """Train ``strategy`` for ``steps`` steps into ``out``; check it ran on CUDA and saved finite scores; seconds."""
    tick = time.perf_counter()
    code = train_loop.main(["--strategy", strategy, *args, "--out", str(out), "--max-steps", str(steps),
                            "--mixed-precision", precision])
    seconds = time.perf_counter() - tick
    printed = capsys.readouterr().out
    assert code == 0, printed[-2000:]
    assert "process(es) on cuda" in printed, printed[-2000:]
    assert yaml.safe_load((out / "config.yaml").read_text())["train"]["mixed_precision"] == precision
    metrics = json.loads((out / "last" / "metrics.json").read_text())
    assert metrics["step"] == steps and all(math.isfinite(v) for k, v in metrics.items() if k.endswith("loss"))
    return seconds


@pytest.mark.parametrize("precision", PRECISIONS)
def test_every_strategy_trains_on_cuda(precision, gpu_cohort, tmp_path, capsys, restore_backends):
    """A few steps of each strategy; the teachers and starting points are the runs before it (on the device)."""
    seconds = {s: round(train_few_steps(s, train_args(gpu_cohort, tmp_path), tmp_path / s, steps=3,
                                        precision=precision, capsys=capsys), 2) for s in STRATEGIES}
    record_figure("strategies", model="utime_small (tiny)", precision=precision, seconds_per_run=seconds)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_the_context_model_trains_on_cuda_with_and_without_a_teacher(precision, gpu_cohort, tmp_path, capsys,
                                                                    restore_backends):
    args = context_args(gpu_cohort, tmp_path)
    seconds = {s: round(train_few_steps(s, args, tmp_path / s, steps=3, precision=precision, capsys=capsys), 2)
               for s in ("eeg_base", "ecg_base", "kd_temp")}
    record_figure("context", model="context_small (tiny, T=8)", precision=precision, seconds_per_run=seconds)


def test_an_fp16_step_whose_gradients_overflow_is_skipped_and_the_scale_lowered(gpu_cohort, tmp_path):
    """Accelerate's gradient scaler, in the Accelerator the trainer builds: a forced overflow, then a normal step."""
    accelerator, model, optimizer, loss_of, batch = training_parts(gpu_cohort, tmp_path, precision="fp16", cpu=False)
    assert accelerator.scaler is not None
    overflow = overflow_step(accelerator, model, optimizer, loss_of, batch, factor=1e10)
    normal = overflow_step(accelerator, model, optimizer, loss_of, batch, factor=1.0)
    record_figure("fp16_scaler", overflow=overflow, normal=normal)
    assert overflow["loss_finite"] and not overflow["weights_changed"]  # the step skipped ...
    assert overflow["scale_after"] == overflow["scale_before"] / 2  # ... and the scale halved
    assert normal["weights_changed"] and normal["scale_after"] == normal["scale_before"] == overflow["scale_after"]


# Syncs a step may make: check_finite's read of the loss (sleep_kd/engine/trainer.py). fp16 adds none:
# with the fused Adam the trainer uses on CUDA, GradScaler leaves its inf check on the device.
SYNCS_PER_STEP = 1
SYNC_CASES = [("ecg_base", "window", "no"), ("kd_temp", "window", "no"), ("ecg_base", "context", "no"),
              ("ecg_base", "window", "fp16")]


@pytest.mark.parametrize("strategy, model, precision", SYNC_CASES)
def test_a_training_step_waits_for_the_gpu_only_where_documented(strategy, model, precision, gpu_cohort, tmp_path,
                                                                 capsys, restore_backends):
    args = (context_args if model == "context" else train_args)(gpu_cohort, tmp_path, "--set", "train.log_every=1000")
    if strategy == "kd_temp":  # its teacher first, outside the count
        train_few_steps("eeg_base", args, tmp_path / "eeg_base", steps=2, precision=precision, capsys=capsys)
    with counting_syncs(device_type="cuda") as log:
        train_few_steps(strategy, args, tmp_path / strategy, steps=8, precision=precision, capsys=capsys)
    per_step, where = log.per_step(), log.steady_locations()
    record_figure("syncs", strategy=strategy, model=model, precision=precision, per_step=per_step,
                  allowed=SYNCS_PER_STEP, steady_by_location=where)
    assert len(per_step) == 7  # 8 steps: 7 whole ones between their checks
    assert max(per_step[1:]) <= SYNCS_PER_STEP, json.dumps(where, indent=1)
