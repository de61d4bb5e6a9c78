"""Phase-form convolutions compute the same convolution as Conv1d, in the channels-last layout."""

import pytest
import torch
import torch.nn.functional as F

from torch import nn

from sleep_kd.fast.phases import CHANNELS_LAST, conv_in_phases, conv_upsampled, phase_weight, to_channels_last
from sleep_kd.fast.scoring.utime import first_conv_phases


def _conv(in_ch: int, out_ch: int, kernel: int, dilation: int) -> nn.Conv1d:
    torch.manual_seed(kernel * 10 + dilation)
    return nn.Conv1d(in_ch, out_ch, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation)


def _is_channels_last(x: torch.Tensor) -> bool:
    return x.dim() == 4 and x.is_contiguous(memory_format=CHANNELS_LAST) and x.stride(1) == 1


@pytest.mark.parametrize("in_ch, out_ch, kernel, dilation, phases", [
    (1, 8, 5, 2, 4), (1, 8, 5, 2, 2), (1, 3, 7, 1, 3), (2, 4, 3, 3, 5), (1, 16, 5, 2, 8), (3, 2, 1, 1, 2),
])
def test_conv_in_phases_equals_the_plain_convolution(in_ch, out_ch, kernel, dilation, phases):
    conv = _conv(in_ch, out_ch, kernel, dilation)
    x = torch.randn(3, in_ch, 120)
    expected = F.conv1d(x, conv.weight, conv.bias, padding=conv.padding, dilation=conv.dilation)
    got = conv_in_phases(to_channels_last(x), conv, phases)
    assert got.shape == (3, out_ch, 1, 120) and _is_channels_last(got)
    torch.testing.assert_close(got.squeeze(2), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("in_ch, out_ch, kernel, dilation, scale", [
    (16, 8, 5, 1, 10), (4, 2, 5, 1, 2), (3, 5, 5, 2, 3), (2, 2, 7, 2, 2), (2, 3, 1, 1, 4), (5, 4, 9, 1, 2),
])
def test_conv_upsampled_equals_the_convolution_of_the_upsampled_input(in_ch, out_ch, kernel, dilation, scale):
    conv = _conv(in_ch, out_ch, kernel, dilation)
    x = torch.randn(2, in_ch, 30)
    expected = conv(F.interpolate(x, scale_factor=float(scale), mode="nearest"))
    got = conv_upsampled(to_channels_last(x), conv, scale)
    assert got.shape == (2, out_ch, 1, 30 * scale) and _is_channels_last(got)
    torch.testing.assert_close(got.squeeze(2), expected, rtol=1e-5, atol=1e-5)


def test_phase_weights_place_every_tap_once():
    """Each original weight appears in the phase weights once per output phase, summed where taps share an input."""
    conv = _conv(2, 3, 5, 1)
    weight, reach = phase_weight(conv.weight, dilation=1, padding=2, phases=10, in_phases=1)
    assert weight.shape == (30, 2, 1, 3) and reach == 1
    per_phase = weight.view(10, 3, 2, 3).sum(dim=-1)  # sum over low-rate taps
    torch.testing.assert_close(per_phase, conv.weight.sum(-1).expand(10, 3, 2))
    # Phase 0 reads full-rate offsets -2..2: -2 and -1 fall in the previous low-rate sample.
    torch.testing.assert_close(weight[:3, :, 0, 0], conv.weight[..., :2].sum(-1))
    torch.testing.assert_close(weight[:3, :, 0, 1], conv.weight[..., 2:].sum(-1))


def test_gradients_flow_to_the_original_weights():
    conv = _conv(1, 4, 5, 2)
    x = torch.randn(2, 1, 40)
    conv_in_phases(to_channels_last(x), conv, 4).square().sum().backward()
    got = conv.weight.grad.clone()
    conv.weight.grad = None
    F.conv1d(x, conv.weight, conv.bias, padding=4, dilation=2).square().sum().backward()
    torch.testing.assert_close(got, conv.weight.grad, rtol=1e-5, atol=1e-5)


def test_phases_stay_in_float32_under_bf16_autocast():
    conv = _conv(1, 8, 5, 2)
    x = to_channels_last(torch.randn(2, 1, 64))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = conv_in_phases(x, conv, 4)
        expected = F.conv2d(x, conv.weight.unsqueeze(2), conv.bias, padding=(0, 4), dilation=(1, 2))
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got, expected.contiguous(memory_format=CHANNELS_LAST), rtol=2e-2, atol=2e-2)


def test_a_length_that_does_not_split_is_refused():
    conv = _conv(1, 2, 5, 1)
    with pytest.raises(ValueError, match="a length of 30 samples does not split into 4 phases"):
        conv_in_phases(to_channels_last(torch.randn(1, 1, 30)), conv, 4)


def test_strided_convolutions_are_refused():
    conv = nn.Conv1d(1, 2, 3, stride=2)
    with pytest.raises(ValueError, match="stride-1, ungrouped, zero-padded Conv1d"):
        conv_upsampled(to_channels_last(torch.randn(1, 1, 8)), conv, 2)


@pytest.mark.parametrize("in_channels, n_times, phases",
                         [(1, 3000, 4), (1, 6000, 4), (1, 1002, 2), (1, 999, 1), (2, 3000, 1)])
def test_first_convolution_phases(in_channels, n_times, phases):
    assert first_conv_phases(in_channels, n_times) == phases
