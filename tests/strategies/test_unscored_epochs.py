"""Each loss term sees the epochs it can use: stages for ce/wce/sd's CE, the teacher alone for sd's KL and at.

Label -1 is an epoch no term counts; -2 an epoch of a night nobody scored (data.stages.UNSCORED_NIGHT).
"""

import pytest
import torch
import torch.nn.functional as F

from sleep_kd.data.stages import UNSCORED_NIGHT
from sleep_kd.models import create_model
from sleep_kd.strategies import build_step, get_strategy

U = UNSCORED_NIGHT
ONE = dict(filters=[4, 8], pool_sizes=[10, 6], bottleneck_filters=16)
CONTEXT = dict(ONE, sequence_width=8, sequence_layers=2, context_epochs=4)


def batch(labels):
    torch.manual_seed(0)
    labels = torch.tensor(labels)
    return {"ecg": torch.rand(*labels.shape, 1, 3000), "eeg": torch.rand(*labels.shape, 1, 3000), "label": labels}


def networks(context: bool):
    torch.manual_seed(0)
    student = create_model("context_small" if context else "utime_small", n_classes=4, **(CONTEXT if context else ONE))
    teacher = create_model("utime_small", n_classes=4, **ONE)
    return student.eval(), teacher.eval()


def by_hand_sd(s, t, y, *, temperature, alpha):
    """Today's ``sd`` written out: T^2 KL over the rows of ``s``/``t``, CE over the scored rows."""
    kl = F.kl_div(F.log_softmax(s / temperature, 1), F.log_softmax(t / temperature, 1), reduction="sum",
                  log_target=True) / s.shape[0]
    scored = y >= 0
    return alpha * temperature**2 * kl + (1 - alpha) * F.cross_entropy(s[scored], y[scored])


@pytest.mark.parametrize("context", [False, True])
def test_kl_sees_unscored_epochs_and_ce_does_not(context):
    student, teacher = networks(context)
    step = build_step(get_strategy("kd_temp"), student=student, teacher=teacher,
                      loss_options={"sd": {"temperature": 2.0, "alpha": 0.5}})
    labels = [[0, U, 2, -1], [U, 1, U, 3]] if context else [0, U, 2, U, 1, 3]
    data = batch(labels)
    out = step(data)
    y = data["label"].reshape(-1)
    seen = (y >= 0) | (y == U)
    s = student(data["ecg"]).reshape(-1, 4)[seen]
    t = teacher(data["eeg"].reshape(-1, 1, 3000))[seen]
    expected = by_hand_sd(s, t, y[seen], temperature=2.0, alpha=0.5)
    assert out["sd_loss"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert out["sd_scored_epochs"].item() == int((y >= 0).sum()) and out["sd_unscored_epochs"].item() == int((y == U).sum())
    assert out["sd_unscored_epochs"].item() == (3 if context else 2)


@pytest.mark.parametrize("context", [False, True])
@pytest.mark.parametrize("strategy", ["ecg_base", "kd_temp", "feat_temp"])
def test_a_fully_scored_batch_gives_todays_loss_exactly(context, strategy):
    """No -2 label: every term sees exactly the rows it saw before unscored nights existed."""
    student, teacher = networks(context)
    step = build_step(get_strategy(strategy), student=student, teacher=teacher,
                      loss_options={"sd": {"temperature": 4.0, "alpha": 0.5}})
    data = batch([[0, -1, 2, 3], [1, 1, 0, -1]] if context else [0, 1, 2, 3, 1, 0])
    out = step(data)
    y = data["label"].reshape(-1)
    scored = y >= 0
    s = student(data["ecg"]).reshape(-1, 4)
    s = s.index_select(0, scored.nonzero().squeeze(1)) if context else s
    if strategy == "ecg_base":
        assert torch.equal(out["ce_loss"], F.cross_entropy(s, y[scored]))
    else:
        t = teacher(data["eeg"].reshape(-1, 1, 3000))
        t = t.index_select(0, scored.nonzero().squeeze(1)) if context else t
        assert out["sd_loss"].item() == pytest.approx(by_hand_sd(s, t, y[scored], temperature=4.0, alpha=0.5).item(),
                                                      rel=1e-6)
        assert out["sd_unscored_epochs"].item() == 0


@pytest.mark.parametrize("context", [False, True])
def test_an_all_unscored_batch_gives_every_parameter_a_zero_label_gradient(context):
    student, _ = networks(context)
    step = build_step(get_strategy("ecg_base"), student=student)
    out = step(batch([[U] * 4, [U] * 4] if context else [U] * 4))
    out["loss"].backward()
    assert out["loss"].item() == 0.0 and out["ce_scored_epochs"].item() == 0
    assert all(p.grad is not None and not p.grad.any() for p in student.parameters())


def test_an_unscored_only_batch_still_trains_the_kl_part():
    student, teacher = networks(False)
    step = build_step(get_strategy("kd_temp"), student=student, teacher=teacher)
    out = step(batch([U] * 4))
    out["loss"].backward()
    assert out["sd_ce_loss"].item() == 0.0 and out["sd_kl_loss"].item() > 0
    assert sum(float(p.grad.abs().sum()) for p in student.parameters()) > 0


def test_ecg_self_is_a_registry_entry_with_an_ecg_teacher():
    strategy = get_strategy("ecg_self")
    assert (strategy.teacher, strategy.teacher_modality, strategy.student_modality) == ("ecg_base", "ecg", "ecg")
    assert strategy.terms == get_strategy("kd_temp").terms and strategy.sees_unscored
    assert not get_strategy("ecg_base").sees_unscored and not get_strategy("feat_wce").sees_unscored
    student, teacher = networks(False)
    out = build_step(strategy, student=student, teacher=teacher)(batch([0, U, 2, U]))
    assert out["sd_unscored_epochs"].item() == 2
