"""The channels-last layout is an implementation detail: same parameters, same numbers."""

import pytest
import torch

from sleep_kd.models import create_model
from sleep_kd.models.blocks import CHANNELS_LAST


def _pair(name: str, **overrides):
    """Two copies of one model: (channels-last, plain (B, C, L))."""
    torch.manual_seed(0)
    fast = create_model(name, n_classes=4, **overrides)
    plain = create_model(name, n_classes=4, **overrides)
    plain.load_state_dict(fast.state_dict())
    plain.channels_last = False
    return fast, plain


def test_layout_keeps_one_dimensional_parameter_shapes():
    fast, plain = _pair("utime_small")
    assert fast.channels_last and not plain.channels_last
    assert fast.encoder[0].blocks[0].conv.phases == 4  # the 1-channel first convolution runs in phase form
    shapes = {k: tuple(v.shape) for k, v in fast.state_dict().items()}
    assert shapes["encoder.0.blocks.0.conv.weight"] == (8, 1, 5)
    assert shapes["dense.weight"] == (4, 8, 1)
    assert shapes["encoder.0.blocks.0.norm.running_mean"] == (8,)
    assert len(shapes) == len(plain.state_dict())


@pytest.mark.parametrize("name, overrides", [("utime_small", {}), ("utime_seed", {"window_s": 4.8})])
def test_layouts_agree_in_eval_forward_and_taps(name, overrides):
    fast, plain = _pair(name, **overrides)
    fast.eval(), plain.eval()
    x = torch.randn(3, 1, fast.n_times)
    with torch.no_grad():
        (a, taps_a), (b, taps_b) = fast(x, return_taps=True), plain(x, return_taps=True)
    assert a.shape == (3, 4)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    for group in taps_b:
        for ta, tb in zip(taps_a[group], taps_b[group]):
            assert ta.shape == tb.shape and ta.dim() == 3
            torch.testing.assert_close(ta, tb, rtol=1e-4, atol=1e-5)


def test_training_runs_the_plain_layout_bit_for_bit():
    """Training mode keeps (B, C, L): the channels-last BatchNorm's batch statistics are less exact."""
    fast, plain = _pair("utime_small")
    x = torch.randn(4, 1, fast.n_times)
    y = torch.tensor([0, 1, 2, 3])
    for model in (fast, plain):
        torch.nn.functional.cross_entropy(model(x), y).backward()
    for (key, pa), (_, pb) in zip(fast.named_parameters(), plain.named_parameters()):
        assert torch.equal(pa.grad, pb.grad), key
    for (key, ba), (_, bb) in zip(fast.named_buffers(), plain.named_buffers()):
        assert torch.equal(ba, bb), key
    assert int(fast.encoder[0].blocks[0].norm.num_batches_tracked) == 1


def test_eval_gradients_agree_across_layouts():
    """A frozen teacher or an attribution map may backpropagate through the eval-mode path."""
    fast, plain = _pair("utime_small")
    fast.eval(), plain.eval()
    x = torch.randn(2, 1, fast.n_times)
    for model in (fast, plain):
        model(x)[:, 1].sum().backward()
    for (key, pa), (_, pb) in zip(fast.named_parameters(), plain.named_parameters()):
        torch.testing.assert_close(pa.grad, pb.grad, rtol=1e-4, atol=1e-6, msg=key)


def test_inner_feature_maps_stay_channels_last():
    fast, _ = _pair("utime_small")
    seen = []
    for block in (fast.encoder[0].blocks[0], fast.decoder[-1].blocks[1]):
        block.register_forward_hook(lambda module, args, out: seen.append(out))
    fast.eval()(torch.randn(2, 1, fast.n_times))
    assert [t.dim() for t in seen] == [4, 4]
    assert all(t.is_contiguous(memory_format=CHANNELS_LAST) and t.stride(1) == 1 for t in seen)
