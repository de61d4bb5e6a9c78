"""for_training: the swapped layers train the same function, with the network's own parameters."""

import copy

import pytest
import torch
from sleep_kd.fast import Conv1dAsConv2d, PointwiseConv1d, UpsampledConv1d, for_scoring, for_training
from sleep_kd.models import create_model

TINY = dict(sfreq=10.0, window_s=12.0, filters=[4, 6], pool_sizes=[4, 3], bottleneck_filters=8)
ARCHITECTURES = [
    ("utime_small", {}),
    ("utime_seed", {"window_s": 4.8}),
    ("utime_small", dict(TINY, kernel_size=7, encoder_dilation=3, decoder_dilation=2)),  # reach past one phase
    ("utime_small", dict(TINY, kernel_size=3, decoder_dilation=5)),  # dilation beyond the scale
    ("utime_small", dict(TINY, pool_sizes=[40, 3])),  # a length-1 level (not 41: torch's nearest upsampling
    # by 41 repeats some samples 40 or 42 times, the phase form exactly 41)
    ("context_small", dict(TINY, context_epochs=3)),
]


def _pair(name, overrides, compiled=False):
    torch.manual_seed(5)
    plain = create_model(name, n_classes=4, **overrides).double().train()
    return plain, for_training(copy.deepcopy(plain), compiled=compiled)


def _input(model, batch=3):
    torch.manual_seed(6)
    shape = (batch, model.context_epochs) if getattr(model, "context_epochs", 0) else (batch,)
    return torch.randn(*shape, model.in_channels, model.n_times, dtype=torch.float64)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "forms_for_compile"])
@pytest.mark.parametrize("name, overrides", ARCHITECTURES)
def test_training_forward_gradients_and_statistics_equal_the_plain_network(name, overrides, compiled):
    plain, fast = _pair(name, overrides, compiled)
    assert any(isinstance(m, UpsampledConv1d) for m in fast.modules())
    assert any(isinstance(m, Conv1dAsConv2d) for m in fast.modules()) == compiled
    x = _input(plain)
    a, b = plain(x), fast(x)
    torch.testing.assert_close(b, a, rtol=0, atol=1e-12)
    (a.square().sum()).backward()
    (b.square().sum()).backward()
    for (key, p), q in zip(plain.named_parameters(), fast.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-10, atol=1e-12, msg=key)
    for key, value in plain.state_dict().items():  # running statistics moved the same way
        torch.testing.assert_close(fast.state_dict()[key], value, rtol=0, atol=1e-12, msg=key)


def test_the_swap_keeps_the_models_own_parameters_and_keys():
    model = create_model("utime_small", n_classes=4)
    before = dict(model.named_parameters())
    keys = list(model.state_dict())
    assert for_training(model) is model
    assert list(model.state_dict()) == keys
    assert all(p is before[k] for k, p in model.named_parameters())  # the same objects: the optimizer's
    layers = [m for m in model.modules() if isinstance(m, UpsampledConv1d)]
    assert [m.scale for m in layers] == [2, 2, 3, 10]  # the decoder, deepest first
    assert isinstance(model.dense, PointwiseConv1d) and isinstance(model.classify, PointwiseConv1d)
    assert for_training(model) is model and [m for m in model.modules() if isinstance(m, UpsampledConv1d)] == layers


def test_a_pointwise_layer_needs_a_1x1_convolution():
    with pytest.raises(ValueError, match="kernel_size 1"):
        PointwiseConv1d.taking_over(torch.nn.Conv1d(4, 4, 3))


def test_a_swapped_model_scores_as_the_plain_one():
    plain, fast = _pair("utime_small", TINY)
    x = _input(plain).float()
    plain, fast = plain.float().eval(), fast.float().eval()
    torch.testing.assert_close(for_scoring(fast)(x), for_scoring(plain)(x), rtol=0, atol=1e-5)
    torch.testing.assert_close(fast(x), plain(x), rtol=0, atol=1e-5)


def test_a_conv_that_is_not_stride_one_is_refused():
    with pytest.raises(ValueError, match="stride-1, ungrouped, zero-padded"):
        UpsampledConv1d.taking_over(torch.nn.Conv1d(4, 4, 3, stride=2), scale=2)


def test_under_bf16_autocast_the_swapped_layers_give_the_plain_layers_dtypes():
    plain, fast = _pair("utime_small", TINY)
    plain, fast = plain.float(), fast.float()
    x = _input(plain).float()
    seen = {}
    for name, model in (("plain", plain), ("fast", fast)):
        hooks = [getattr(model, layer).register_forward_hook(
            lambda mod, i, o, key=(name, layer): seen.__setitem__(key, o.dtype)) for layer in ("dense", "classify")]
        hooks.append(model.decoder[-1].reduce.conv.register_forward_hook(
            lambda mod, i, o, key=(name, "up"): seen.__setitem__(key, o.dtype)))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            model(x)
        for hook in hooks:
            hook.remove()
    for layer in ("dense", "classify", "up"):
        assert seen[("fast", layer)] == seen[("plain", layer)] == torch.bfloat16, layer


def test_the_forms_for_compile_take_every_block_convolution_and_keep_the_parameters():
    model = create_model("utime_small", n_classes=4)
    before = dict(model.named_parameters())
    keys = list(model.state_dict())
    for_training(model, compiled=True)
    assert list(model.state_dict()) == keys
    assert all(p is before[k] for k, p in model.named_parameters())
    assert [type(m) for m in model.modules() if type(m) is torch.nn.Conv1d] == []
    # 4 encoder levels x 2, the bottleneck's 2, 4 decoder levels x 2 after the concatenation.
    assert sum(isinstance(m, Conv1dAsConv2d) for m in model.modules()) == 18
    for_training(model, compiled=True)
    assert sum(isinstance(m, Conv1dAsConv2d) for m in model.modules()) == 18


def test_a_strided_convolution_is_refused_as_conv2d():
    with pytest.raises(ValueError, match="stride-1, ungrouped, zero-padded Conv1d with numeric padding"):
        Conv1dAsConv2d.taking_over(torch.nn.Conv1d(4, 4, 3, stride=2))


def test_the_compiled_forms_train_the_plain_networks_gradients():
    """Under torch.compile (inductor, channels-last) the step equals the plain eager network's."""
    torch.manual_seed(5)
    plain = create_model("utime_small", n_classes=4, **TINY).train()
    fast = torch.compile(for_training(copy.deepcopy(plain), compiled=True))
    x = _input(plain, batch=4).float()
    a, b = plain(x), fast(x)
    torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
    a.square().sum().backward()
    b.square().sum().backward()
    for (key, p), q in zip(plain.named_parameters(), fast.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-3, atol=1e-4, msg=key)
