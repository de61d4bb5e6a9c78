"""The strategy step with context: every term sees the counted epochs only, one row each."""

import pytest
import torch
import torch.nn.functional as F

from sleep_kd.models import create_model
from sleep_kd.strategies import build_step, get_strategy

TINY = dict(filters=[4, 8], pool_sizes=[10, 6], bottleneck_filters=16, sequence_width=8, sequence_layers=2,
            context_epochs=4)


def batch(labels):
    torch.manual_seed(0)
    labels = torch.tensor(labels)
    return {"ecg": torch.rand(*labels.shape, 1, 3000), "eeg": torch.rand(*labels.shape, 1, 3000), "label": labels}


def test_ce_counts_only_the_counted_epochs():
    torch.manual_seed(0)
    student = create_model("context_small", n_classes=4, **TINY).eval()
    step = build_step(get_strategy("ecg_base"), student=student)
    data = batch([[0, -1, 2, 3], [-1, 1, 1, -1]])
    out = step(data)
    logits = student(data["ecg"]).reshape(-1, 4)
    keep = data["label"].reshape(-1) >= 0
    assert out["logits"].shape == (2, 4, 4)
    assert out["loss"].item() == pytest.approx(F.cross_entropy(logits[keep], data["label"].reshape(-1)[keep]).item(),
                                               rel=1e-6)


class FixedLogits(torch.nn.Module):
    """A 'network' whose logits (1, 4, 4) are a parameter: its gradient is the loss's gradient per epoch."""

    def __init__(self):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.randn(1, 4, 4))

    def forward(self, x, return_taps=False):
        return self.logits


@pytest.mark.parametrize("strategy", ["ecg_base", "feat_wce"])
def test_a_masked_epoch_gets_no_gradient(strategy):
    torch.manual_seed(0)
    student = FixedLogits()
    step = build_step(get_strategy(strategy), student=student, class_weights=torch.tensor([1.0, 2.0, 0.5, 3.0]))
    step(batch([[0, -1, 2, -1]]))["loss"].backward()
    grad = student.logits.grad[0]
    assert not grad[1].any() and not grad[3].any()
    assert grad[0].abs().sum() > 0 and grad[2].abs().sum() > 0


@pytest.mark.parametrize("strategy", ["feat_train", "kd_temp", "feat_temp"])
@pytest.mark.parametrize("teacher_context", [True, False])
def test_teacher_terms_work_with_a_context_or_a_single_window_teacher(strategy, teacher_context):
    torch.manual_seed(0)
    student = create_model("context_small", n_classes=4, **TINY)
    if teacher_context:
        teacher = create_model("context_small", n_classes=4, **TINY)
    else:
        teacher = create_model("utime_small", n_classes=4, filters=[4, 8], pool_sizes=[10, 6], bottleneck_filters=16)
    step = build_step(get_strategy(strategy), student=student, teacher=teacher,
                      loss_options={"sd": {"temperature": 2.0}})
    out = step(batch([[0, -1, 2, 3], [1, 1, -1, 0]]))
    assert torch.isfinite(out["loss"])
    out["loss"].backward()
    assert all(p.grad is not None for p in student.parameters())


def test_the_kd_term_matches_a_by_hand_computation_on_counted_epochs():
    torch.manual_seed(0)
    student = create_model("context_small", n_classes=4, **TINY).eval()
    teacher = create_model("utime_small", n_classes=4, filters=[4, 8], pool_sizes=[10, 6], bottleneck_filters=16).eval()
    step = build_step(get_strategy("kd_temp"), student=student, teacher=teacher,
                      loss_options={"sd": {"temperature": 2.0, "alpha": 1.0}})
    data = batch([[0, -1, 2, -1]])
    s = student(data["ecg"]).reshape(-1, 4)[[0, 2]]
    t = teacher(data["eeg"].flatten(0, 1))[[0, 2]]
    kl = F.kl_div(F.log_softmax(s / 2, 1), F.log_softmax(t / 2, 1), reduction="batchmean", log_target=True) * 4
    assert step(data)["loss"].item() == pytest.approx(kl.item(), rel=1e-5)


def test_a_batch_without_a_counted_epoch_gives_zero_loss_and_zero_gradients():
    torch.manual_seed(0)
    student = create_model("context_small", n_classes=4, **TINY)
    step = build_step(get_strategy("ecg_base"), student=student)
    out = step(batch([[-1, -1, -1, -1]]))
    assert out["loss"].item() == 0.0
    out["loss"].backward()
    assert all(p.grad is not None and not p.grad.any() for p in student.parameters())
