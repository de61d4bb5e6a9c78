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
    (docs/speed.md has the measured step).
    """

    @staticmethod
    def fits(conv: nn.Conv1d) -> bool:
        """Whether ``conv`` has this form: stride 1, ungrouped, zero padding given in samples."""
        return conv.stride == (1,) and conv.groups == 1 and conv.padding_mode == "zeros" \
            and not isinstance(conv.padding, str)

    @classmethod
    def taking_over(cls, conv: nn.Conv1d) -> "Conv1dAsConv2d":
        """A layer holding ``conv``'s own weight and bias (not copies)."""
        if not cls.fits(conv):
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
