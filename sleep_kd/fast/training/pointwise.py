"""A 1x1 Conv1d as a matrix product over channels."""

from __future__ import annotations

import torch
from torch import nn


class PointwiseConv1d(nn.Conv1d):
    """``Conv1d(in, out, kernel_size=1)`` computed as one product: (B, in, L) -> (B, out, L).

    The same weight (out, in, 1) and bias (out,) Parameters as the layer it replaces. oneDNN runs
    a 1x1 convolution over 8 channels and 3,000 samples (U-Time's head) well below its matmul
    rate; as an einsum, forward and backward are plain matrix products.
    """

    @classmethod
    def taking_over(cls, conv: nn.Conv1d) -> "PointwiseConv1d":
        """A layer holding ``conv``'s own weight and bias (not copies)."""
        if conv.kernel_size != (1,) or conv.stride != (1,) or conv.groups != 1 or conv.padding != (0,):
            raise ValueError("PointwiseConv1d needs an unpadded, stride-1, ungrouped Conv1d with kernel_size 1")
        layer = cls(conv.in_channels, conv.out_channels, 1, bias=conv.bias is not None, device="meta")
        layer.weight, layer.bias = conv.weight, conv.bias
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.einsum("oc,bcl->bol", self.weight[..., 0], x)
        # In the product's dtype, as Conv1d adds its bias (bf16 under autocast, not promoted to float32).
        return out if self.bias is None else out + self.bias[:, None].to(out.dtype)
