"""build_step: one training step of every strategy, the frozen teacher, refusals, extension."""

from __future__ import annotations

import math

import pytest
import torch

from sleep_kd.errors import InputError
from sleep_kd.models import create_model
from sleep_kd.strategies import Strategy, build_step, get_strategy, list_strategies, register_strategy
from sleep_kd.strategies.registry import unregister_strategy

TINY = dict(sfreq=10.0, window_s=8.0, filters=[4, 8], pool_sizes=[2, 2], bottleneck_filters=8)
N_CLASSES = 3


def tiny_model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return create_model("utime_small", n_classes=N_CLASSES, **TINY)


def batch(seed: int = 0, size: int = 6) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {"eeg": torch.randn(size, 1, 80, generator=gen), "ecg": torch.randn(size, 1, 80, generator=gen),
            "label": torch.tensor([0, 1, 2, 0, 1, 2][:size])}


def make_step(name: str, **kwargs):
    strategy = get_strategy(name)
    student = tiny_model(1)
    teacher = tiny_model(2) if strategy.teacher else None
    return build_step(strategy, student=student, teacher=teacher, class_weights=torch.tensor([1.0, 2.0, 3.0]),
                      **kwargs), student, teacher


@pytest.mark.parametrize("name", list_strategies())
def test_every_strategy_trains_one_step(name):
    step, student, _ = make_step(name)
    optimizer = torch.optim.Adam(student.parameters(), lr=1e-3)
    out = step(batch())
    expected = {"loss", "logits"} | {f"{term}_loss" for term in get_strategy(name).terms}
    assert expected <= set(out)
    assert out["loss"].requires_grad and math.isfinite(out["loss"].item())
    assert out["logits"].shape == (6, N_CLASSES) and not out["logits"].requires_grad
    assert all(not out[key].requires_grad for key in expected - {"loss"})
    before = [p.detach().clone() for p in student.parameters()]
    out["loss"].backward()
    optimizer.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, student.parameters()))


def test_sd_logs_its_kl_and_ce_parts():
    step, _, _ = make_step("kd_temp", loss_options={"sd": {"temperature": 2.0, "alpha": 0.25}})
    out = step(batch())
    expected = 0.25 * out["sd_kl_loss"] + 0.75 * out["sd_ce_loss"]
    assert out["sd_loss"].item() == pytest.approx(expected.item(), rel=1e-6)


def test_teacher_weights_and_batchnorm_buffers_are_untouched_by_training():
    step, student, teacher = make_step("feat_train")
    teacher.train()                                   # a careless loop; the step must undo it
    state = {k: v.clone() for k, v in teacher.state_dict().items()}
    optimizer = torch.optim.Adam(student.parameters(), lr=1e-2)
    for seed in range(2):
        optimizer.zero_grad()
        step(batch(seed))["loss"].backward()
        optimizer.step()
    assert not teacher.training
    assert all(not p.requires_grad and p.grad is None for p in teacher.parameters())
    assert all(torch.equal(state[k], v) for k, v in teacher.state_dict().items())


def test_weight_zero_term_is_logged_but_not_trained():
    step, student, _ = make_step("feat_train")
    classify = student.classify.weight.detach().clone()
    optimizer = torch.optim.Adam(student.parameters(), lr=1e-2)
    for seed in range(2):
        optimizer.zero_grad()
        out = step(batch(seed))
        out["loss"].backward()
        optimizer.step()
    # The last 1x1 convolution only feeds the logits, which only the weight-0 CE sees.
    assert torch.equal(student.classify.weight, classify)
    assert out["ce_loss"].item() > 0
    assert out["loss"].item() == pytest.approx(out["at_loss"].item())


def test_feat_wce_applies_the_class_weights():
    weighted, _, _ = make_step("feat_wce")
    unweighted, _, _ = make_step("feat_wce", loss_options={"wce": {"apply_weights": False}})
    data = batch()
    assert weighted(data)["wce_loss"].item() != pytest.approx(unweighted(data)["wce_loss"].item())


@pytest.mark.parametrize(("name", "message"), [
    ("kd_temp", "strategy 'kd_temp' needs a frozen teacher trained by 'eeg_base': pass --teacher CKPT"),
    ("feat_train", "strategy 'feat_train' needs a frozen teacher trained by 'eeg_base': pass --teacher CKPT"),
])
def test_strategies_with_a_teacher_refuse_to_run_without_one(name, message):
    with pytest.raises(InputError) as error:
        build_step(get_strategy(name), student=tiny_model(0))
    assert str(error.value) == message


def test_loss_options_are_checked_when_the_step_is_built():
    with pytest.raises(InputError, match="loss term 'sd' has no option 'temp'"):
        make_step("kd_temp", loss_options={"sd": {"temp": 2.0}})
    with pytest.raises(InputError, match="loss options given for unknown loss term 'focal'"):
        make_step("eeg_base", loss_options={"focal": {}})


class CountingModel(torch.nn.Module):
    """Wraps a model and records whether taps were asked for."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model, self.calls = model, []

    def forward(self, x, return_taps=False):
        self.calls.append(return_taps)
        return self.model(x, return_taps=return_taps)


def test_taps_are_requested_only_when_a_term_needs_them():
    for name, expected in (("kd_temp", [False]), ("feat_train", [True])):
        student = CountingModel(tiny_model(0))
        build_step(get_strategy(name), student=student, teacher=tiny_model(1))(batch())
        assert student.calls == expected


def test_students_read_their_modality():
    step, student, _ = make_step("eeg_base")
    data = batch()
    student.eval()
    with torch.no_grad():
        assert torch.equal(step(data)["logits"], student(data["eeg"]))
        data["eeg"] = torch.zeros_like(data["eeg"])
        assert not torch.equal(step(data)["logits"], student(batch()["eeg"]))


def test_a_seventh_strategy_is_a_few_lines():
    register_strategy(Strategy(name="ecg_at_kd", student_modality="ecg", terms={"at": 0.5, "sd": 1.0},
                               teacher="eeg_base"))
    try:
        assert "ecg_at_kd" in list_strategies()
        step = build_step(get_strategy("ecg_at_kd"), student=tiny_model(0), teacher=tiny_model(1))
        out = step(batch())
        assert out["loss"].item() == pytest.approx(0.5 * out["at_loss"].item() + out["sd_loss"].item(), rel=1e-6)
    finally:
        unregister_strategy("ecg_at_kd")
    assert "ecg_at_kd" not in list_strategies()


def test_step_under_bf16_autocast_scores_in_float32():
    step, _, _ = make_step("feat_train")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = step(batch())
    assert out["loss"].dtype == torch.float32 and math.isfinite(out["loss"].item())
    assert out["logits"].dtype == torch.float32


def test_same_seed_same_loss():
    losses = [make_step("kd_temp")[0](batch())["loss"].item() for _ in range(2)]
    assert losses[0] == losses[1]


@pytest.mark.parametrize("name", ["kd_temp", "feat_train", "feat_temp"])
def test_the_teacher_runs_in_float32_under_the_loops_bf16_autocast(name):
    """Distillation targets are the fp32 teacher's own, exactly, whatever autocast the step runs under."""
    step, _, teacher = make_step(name)
    data = batch()
    with torch.no_grad():
        plain_logits, plain_taps = teacher(data["eeg"], return_taps=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        targets = step._teacher_outputs(data)
    assert targets.logits.dtype == torch.float32 and torch.equal(targets.logits, plain_logits)
    if targets.taps is not None:
        for group, layers in targets.taps.items():
            assert all(tap.dtype == torch.float32 and torch.equal(tap, plain) for tap, plain in zip(layers, plain_taps[group]))
