"""A Conv1d computed as a Conv2d over a height-1 map, for ``torch.compile`` only."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Conv1dAsConv2d(nn.Conv1d):
    """``Conv1d`` over (B, in, L) computed as ``conv2d`` over (B, in, 1, L): (B, in, L) -> (B, out, L).

    The same weight (out, in, k) and bias (out,) Parameters as the layer it replaces, and the same
    function. In eager mode it is the Conv1d (oneDNN runs a 1-D convolution as a 2-D one anyway).
    Under ``torch.compile`` it lets inductor's layout optimisation, which handles 4-D convolutions,
    run the network in channels-last memory and fuse ReLU and BatchNorm over that layout
    (bench/README.md has the measured step).
    """

    @classmethod
    def taking_over(cls, conv: nn.Conv1d) -> "Conv1dAsConv2d":
        """A layer holding ``conv``'s own weight and bias (not copies)."""
        if conv.stride != (1,) or conv.groups != 1 or conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ValueError("Conv1dAsConv2d needs a stride-1, ungrouped, zero-padded Conv1d with numeric padding")
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size[0], padding=conv.padding[0],
                    dilation=conv.dilation[0], bias=conv.bias is not None, device="meta")
        layer.weight, layer.bias = conv.weight, conv.bias
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(x.unsqueeze(2), self.weight.unsqueeze(2), self.bias, 1,
                       (0, self.padding[0]), (1, self.dilation[0]))
        return out.squeeze(2)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, as a height-1 conv2d"


class ChannelsLastConv1d(Conv1dAsConv2d):
    """The same height-1 conv2d, run eagerly in channels-last memory: (B, in, L) -> (B, out, L), contiguous.

    The input is copied to channels-last and the output back to the (B, C, L) layout, so the
    BatchNorm and ReLU around it stay in theirs. For the full-resolution convolutions (8-16 channels
    over 3,000 samples): oneDNN reorders such maps to a blocked layout padded to 16 channels in the
    (B, C, L) layout, and runs them 1.5-2.4x faster in channels-last, the copies included
    (bench/README.md).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.requires_grad:  # the input's gradient leaves in (B, C, L) too, for the layers before
            x = _ContiguousGradient.apply(x)
        x = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        out = F.conv2d(x, self.weight.unsqueeze(2), self.bias, 1, (0, self.padding[0]), (1, self.dilation[0]))
        return out.squeeze(2).contiguous()

    def extra_repr(self) -> str:
        return f"{nn.Conv1d.extra_repr(self)}, as a height-1 conv2d in channels-last memory"


class _ContiguousGradient(torch.autograd.Function):
    """Identity whose backward makes the gradient contiguous: (B, C, L) -> (B, C, L).

    The gradient of a copy to channels-last arrives channels-last strided; the BatchNorm and ReLU
    backward before the convolution run 1.3-1.5x slower on it than on a contiguous one.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous()
