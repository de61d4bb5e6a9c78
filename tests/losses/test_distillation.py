"""sd: softened distillation plus cross-entropy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sleep_kd.errors import InputError
from sleep_kd.losses import Outputs, get_loss, sd_parts

sd = get_loss("sd")
TARGETS = torch.tensor([1])
# The teacher's softmax at T = 1 is [0.25, 0.75]; the student's is uniform.
TEACHER = Outputs(torch.tensor([[0.0, math.log(3.0)]]))
STUDENT = Outputs(torch.zeros(1, 2))
KL_HAND = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)


@pytest.mark.parametrize("temperature", [1.0, 2.0, 7.5])
def test_identical_logits_distil_to_zero(temperature):
    logits = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    value = sd(Outputs(logits), Outputs(logits.clone()), torch.zeros(5, dtype=torch.long),
               temperature=temperature, alpha=1.0)
    assert value.item() == pytest.approx(0.0, abs=1e-6)


def test_hand_computed_kl_at_temperature_one():
    value = sd(STUDENT, TEACHER, TARGETS, temperature=1.0, alpha=1.0)
    assert value.item() == pytest.approx(KL_HAND, rel=1e-6)


def test_kl_is_scaled_by_temperature_squared():
    # At T = 2 the teacher logits [0, 2 log 3] soften to the same [0.25, 0.75].
    teacher = Outputs(torch.tensor([[0.0, 2 * math.log(3.0)]]))
    value = sd(STUDENT, teacher, TARGETS, temperature=2.0, alpha=1.0)
    assert value.item() == pytest.approx(4 * KL_HAND, rel=1e-6)


def test_alpha_mixes_distillation_and_cross_entropy():
    value = sd(STUDENT, TEACHER, TARGETS, temperature=1.0, alpha=0.25)
    assert value.item() == pytest.approx(0.25 * KL_HAND + 0.75 * math.log(2.0), rel=1e-6)


def test_parts_are_the_scaled_kl_and_the_cross_entropy():
    parts = sd_parts(STUDENT, TEACHER, TARGETS, temperature=1.0)
    assert parts["kl"].item() == pytest.approx(KL_HAND, rel=1e-6)
    assert parts["ce"].item() == pytest.approx(math.log(2.0), rel=1e-6)


def test_mean_and_batchmean_differ_by_the_class_count():
    gen = torch.Generator().manual_seed(1)
    student, teacher = Outputs(torch.randn(6, 4, generator=gen)), Outputs(torch.randn(6, 4, generator=gen))
    targets = torch.zeros(6, dtype=torch.long)
    batchmean = sd(student, teacher, targets, alpha=1.0, kl_reduction="batchmean")
    mean = sd(student, teacher, targets, alpha=1.0, kl_reduction="mean")
    assert batchmean.item() == pytest.approx(4 * mean.item(), rel=1e-6)


def test_seed_mode_reproduces_the_seed_formula():
    gen = torch.Generator().manual_seed(2)
    s, t = torch.randn(3, 4, generator=gen), torch.randn(3, 4, generator=gen)
    y = torch.tensor([0, 3, 1])
    # Written out: KLDivLoss(reduction="mean") sums p_t (log p_t - log p_s) and divides by B x C.
    s64, t64 = s.double().numpy(), t.double().numpy()
    log_ps = s64 - np.log(np.exp(s64).sum(1, keepdims=True))
    log_pt = t64 - np.log(np.exp(t64).sum(1, keepdims=True))
    kl = (np.exp(log_pt) * (log_pt - log_ps)).sum() / (3 * 4)
    ce = -log_ps[np.arange(3), y.numpy()].mean()
    expected = 0.5 * 1.0 * kl + 0.5 * ce
    value = sd(Outputs(s), Outputs(t), y, temperature=1.0, alpha=0.5, kl_reduction="mean")
    assert value.item() == pytest.approx(expected, rel=1e-5)


def test_gradients_reach_the_student_only_through_its_logits():
    student = Outputs(torch.zeros(2, 3, requires_grad=True))
    teacher = Outputs(torch.randn(2, 3))
    sd(student, teacher, torch.tensor([0, 2])).backward()
    assert student.logits.grad is not None and torch.count_nonzero(student.logits.grad) > 0


def test_bf16_logits_are_scored_in_float32():
    value = sd(Outputs(STUDENT.logits.bfloat16()), Outputs(TEACHER.logits.bfloat16()), TARGETS,
               temperature=1.0, alpha=1.0)
    assert value.dtype == torch.float32


@pytest.mark.parametrize(("options", "message"), [
    (dict(temperature=0.0), r"'temperature' must lie in \(0, 100\], got 0.0"),
    (dict(temperature=1e300), r"'temperature' must lie in \(0, 100\], got 1e\+300"),
    (dict(alpha=1.5), r"'alpha' must lie in \[0, 1\]"),
    (dict(kl_reduction="sum"), "'kl_reduction' must be one of"),
    (dict(temp=2.0), "loss term 'sd' has no option 'temp'"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(InputError, match=message):
        sd(STUDENT, TEACHER, TARGETS, **options)


def test_mismatched_logits_are_refused():
    with pytest.raises(InputError, match=r"teacher \(1, 2\) and student \(1, 3\)"):
        sd(Outputs(torch.zeros(1, 3)), TEACHER, TARGETS)


def test_sd_without_teacher_is_refused():
    with pytest.raises(InputError, match="loss term 'sd' needs teacher outputs"):
        sd(STUDENT, None, TARGETS)
