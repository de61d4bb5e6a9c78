"""UTime.scoring(): BatchNorm folded into the next layer gives the plain eval logits."""

import pytest
import torch

from sleep_kd.models import create_model
from sleep_kd.models.folding import edge_corrections

TINY = dict(sfreq=10.0, window_s=12.0, filters=[4, 6], pool_sizes=[4, 3], bottleneck_filters=8)


def _trained_looking(name: str, *, negative: bool = True, **overrides):
    """A model whose BatchNorms have non-trivial running statistics (some weights < 0 if ``negative``)."""
    torch.manual_seed(3)
    model = create_model(name, n_classes=4, **overrides)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(-0.5 if negative else 0.2, 2.0)
            module.bias.data.uniform_(-1, 1)
    return model.eval()


def _plain_logits(model, x):
    model.channels_last = False
    try:
        with torch.no_grad():
            return model(x)
    finally:
        model.channels_last = True


@pytest.mark.parametrize("name, overrides", [
    ("utime_small", {}),
    ("utime_seed", {"window_s": 4.8}),
    ("utime_small", dict(TINY, kernel_size=7, encoder_dilation=3, decoder_dilation=2)),
    ("utime_small", dict(TINY, kernel_size=3, encoder_dilation=1, bottleneck_dilation=2)),
])
@pytest.mark.parametrize("negative", [True, False])
def test_folded_logits_equal_the_plain_forward(name, overrides, negative):
    model = _trained_looking(name, negative=negative, **overrides)
    x = torch.randn(3, 1, model.n_times)
    with torch.no_grad(), model.scoring():
        folded = model(x)
        order_kept = [value for key, value in model._folded.items() if key[0] == "negative-scale"]
    torch.testing.assert_close(folded, _plain_logits(model, x), rtol=1e-5, atol=1e-5)
    assert len(order_kept) == len(model.encoder)
    assert any(order_kept) == negative  # a negative BatchNorm weight is applied before pooling


def test_edge_corrections_remove_the_shift_where_taps_read_padding():
    weight = torch.ones(1, 1, 3)
    left, right = edge_corrections(weight, torch.tensor([2.0]), dilation=1, padding=1, length=5)
    torch.testing.assert_close(left, torch.tensor([[2.0]]))  # sample 0: tap 0 reads sample -1
    torch.testing.assert_close(right, torch.tensor([[2.0]]))  # sample 4: tap 2 reads sample 5
    weight = torch.arange(1.0, 6.0).view(1, 1, 5)  # taps 1..5, dilation 2: padding 4
    left, right = edge_corrections(weight, torch.tensor([1.0]), dilation=2, padding=4, length=6)
    # Sample t reads t-4, t-2, t, t+2, t+4 of 6: samples 0-1 miss taps 1 and 2, samples 2-3 miss
    # taps 1 and 5 (one read on each side), samples 4-5 miss taps 4 and 5.
    torch.testing.assert_close(left, torch.tensor([[3.0, 3.0, 6.0, 6.0]]))
    torch.testing.assert_close(right, torch.tensor([[9.0, 9.0]]))


def test_the_folded_parameters_are_computed_once_and_dropped_on_exit():
    model = _trained_looking("utime_small", **TINY)
    x = torch.randn(2, 1, model.n_times)
    with torch.no_grad(), model.scoring():
        model(x)
        first = dict(model._folded)
        model(x[:1])
        assert model._folded.keys() == first.keys()
        assert all(model._folded[key] is value for key, value in first.items())
    assert model._folded is None


def test_taps_and_training_inside_scoring_run_the_plain_blocks():
    model = _trained_looking("utime_small", **TINY)
    x = torch.randn(2, 1, model.n_times)
    with torch.no_grad():
        outside_logits, outside_taps = model(x, return_taps=True)
        with model.scoring():
            logits, taps = model(x, return_taps=True)
            folded = model(x)
    assert torch.equal(logits, outside_logits)
    assert all(torch.equal(a, b) for group in taps for a, b in zip(taps[group], outside_taps[group]))
    torch.testing.assert_close(folded, logits, rtol=1e-5, atol=1e-5)
    model.train()
    with torch.no_grad(), model.scoring():
        trained = model(x)
        assert model._folded == {}  # training mode never folds
    with torch.no_grad():
        assert torch.equal(trained, model(x))


def test_input_gradients_inside_scoring_match_and_parameters_stay_constant():
    model = _trained_looking("utime_small", **TINY)
    x = torch.randn(2, 1, model.n_times, requires_grad=True)
    model(x)[:, 2].sum().backward()
    expected, x.grad = x.grad.clone(), None
    model.zero_grad()
    with model.scoring():
        model(x)[:, 2].sum().backward()
    torch.testing.assert_close(x.grad, expected, rtol=1e-4, atol=1e-6)
    assert model.dense.weight.grad is None and model.encoder[0].blocks[0].conv.weight.grad is None


def test_bf16_scoring_agrees_with_float32():
    model = _trained_looking("utime_small", negative=False)
    x = torch.rand(4, 1, model.n_times)
    with torch.no_grad(), model.scoring(), torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(x)
    assert logits.dtype == torch.bfloat16
    torch.testing.assert_close(logits.float(), _plain_logits(model, x), rtol=0.05, atol=0.05)
