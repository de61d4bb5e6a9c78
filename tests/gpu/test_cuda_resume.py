"""On CUDA with --deterministic, a run stopped mid-epoch and resumed ends bit-equal to an uninterrupted one."""

from __future__ import annotations

import pytest

from tests.gpu.checks import record_figure, resume_against_uninterrupted
from tests.gpu.conftest import train_args

pytestmark = pytest.mark.cuda


def test_a_deterministic_run_resumed_on_cuda_ends_bit_equal_to_an_uninterrupted_one(gpu_cohort, tmp_path):
    # Two epochs of 8 steps (128 windows each): the stop at step 5 is inside the first.
    base = ["--strategy", "ecg_base", *train_args(gpu_cohort, tmp_path, "--deterministic", "--epochs", "2",
                                                 "--set", "train.windows_per_epoch=128")]
    report = resume_against_uninterrupted(base, tmp_path, stop_at=5)
    record_figure("resume", **report)
    assert report["return_codes"] == [0, 0, 0], report["errors"]
    assert report["stopped_at"] == 5 and report["resumed"]
    assert report["weights_bit_equal"] and report["metrics_equal"], report
