"""The fast training layout: same parameters and keys, the same arithmetic, as exact as the plain layout."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sleep_kd.models import create_model
from sleep_kd.models.speed import FastBatchNorm1d, FastConv1d, use_fast_layout, uses_fast_layout

TINY = dict(sfreq=10.0, window_s=12.0, filters=[4, 6], pool_sizes=[4, 3], bottleneck_filters=8)


def _step(model, x, y):
    model.zero_grad(set_to_none=True)
    logits, taps = model(x, return_taps=True)
    loss = F.cross_entropy(logits, y) + sum(t.float().pow(2).mean() for g in taps for t in taps[g])
    loss.backward()
    return logits.detach(), {k: p.grad.clone() for k, p in model.named_parameters()}


def _pair(name, dtype=torch.float32, **overrides):
    torch.manual_seed(0)
    plain = create_model(name, n_classes=4, **overrides).train().to(dtype)
    return plain, use_fast_layout(copy.deepcopy(plain))


def test_the_swap_keeps_parameters_keys_and_the_forward():
    model = create_model("utime_small", n_classes=4)
    params = list(model.parameters())
    keys = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert not uses_fast_layout(model)
    use_fast_layout(model)
    assert uses_fast_layout(model)
    assert all(a is b for a, b in zip(model.parameters(), params))  # an optimizer built before still holds them
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == keys
    assert isinstance(model.encoder[0].blocks[0].conv, FastConv1d)
    assert isinstance(model.encoder[0].blocks[0].conv, nn.Conv1d)  # still a Conv1d for everything else
    assert isinstance(model.decoder[0].blocks[1].norm, FastBatchNorm1d)


@pytest.mark.parametrize("name, overrides", [("utime_small", {}), ("utime_small", TINY),
                                             ("utime_seed", {"window_s": 4.8})])
def test_in_float64_a_training_step_is_the_plain_one(name, overrides):
    """The same operations: in float64 only rounding (~1e-12) tells the layouts apart."""
    plain, fast = _pair(name, torch.float64, **overrides)
    x, y = torch.rand(4, 1, plain.n_times, dtype=torch.float64), torch.tensor([0, 1, 2, 3])
    (lp, gp), (lf, gf) = _step(plain, x, y), _step(fast, x, y)
    torch.testing.assert_close(lf, lp, rtol=1e-10, atol=1e-12)
    for key in gp:
        assert ((gf[key] - gp[key]).norm() / gp[key].norm()).item() < 1e-9, key
    for (key, a), (_, b) in zip(plain.state_dict().items(), fast.state_dict().items()):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12, msg=key)  # running statistics, batch counts


def test_in_float32_the_fast_step_is_as_exact_as_the_plain_one():
    """Against a float64 step, the fast layout's float32 gradients err no more than the plain layout's."""
    plain, fast = _pair("utime_small")
    exact = copy.deepcopy(plain).double()
    x, y = torch.rand(16, 1, plain.n_times), torch.arange(16) % 4
    _, g64 = _step(exact, x.double(), y)
    (_, gp), (_, gf) = _step(plain, x, y), _step(fast, x, y)

    def error(g):
        return max(((g[k].double() - g64[k]).norm() / g64[k].norm()).item() for k in g64)

    assert error(gf) <= 3 * error(gp) + 1e-6, (error(gf), error(gp))
    norm_plain = plain.encoder[0].blocks[0].norm
    norm_fast = fast.encoder[0].blocks[0].norm
    torch.testing.assert_close(norm_fast.running_var, norm_plain.running_var, rtol=1e-5, atol=1e-7)


def test_eval_mode_and_bf16_autocast_run_in_the_fast_layout():
    plain, fast = _pair("utime_small", **TINY)
    plain.eval(), fast.eval()
    x = torch.rand(3, 1, plain.n_times)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), plain(x), rtol=1e-5, atol=1e-6)
    fast.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = fast(x)
    assert logits.dtype == torch.bfloat16
    logits.float().sum().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in fast.parameters())


def test_layers_the_swap_does_not_cover_are_left_alone():
    model = nn.Sequential(nn.Conv1d(2, 2, 3, padding=1, padding_mode="circular"), nn.MaxPool1d(2, padding=1),
                          nn.Upsample(scale_factor=2.0, mode="linear"), nn.Conv1d(2, 2, 3))
    use_fast_layout(model)
    assert [type(m).__name__ for m in model] == ["Conv1d", "MaxPool1d", "Upsample", "FastConv1d"]
