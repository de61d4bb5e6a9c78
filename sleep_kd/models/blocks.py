"""Building blocks of U-Time: the convolution block and the encoder/decoder levels.

Block order follows the original implementation: convolution, ReLU, then BatchNorm (the
normalisation comes after the activation), with zero padding that keeps the length.

Layout. Every block takes either (B, C, L) tensors or the same data as (B, C, 1, L) in
``torch.channels_last`` memory (samples outer, channels inner). U-Time scores (eval mode) in the
second: oneDNN's convolutions over 8-16 channels x 3000 samples are 2-4x faster in that layout
than in (B, C, L), and the 1x1 head 25x faster (see bench/README.md). Training stays on
(B, C, L), where BatchNorm's batch statistics are exact to float rounding. Parameters keep their 1-D shapes
(``Conv1d`` weights (out, in, k), ``BatchNorm1d``), so checkpoints do not depend on the layout
and the arithmetic is the same convolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sleep_kd.models.phases import conv_in_phases, conv_upsampled

CHANNELS_LAST = torch.channels_last


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """(B, C, 1, L) in channels-last memory, from a (B, C, L) tensor or a (B, C, 1, L) one."""
    if x.dim() == 3:
        x = x.unsqueeze(2)
    return x.contiguous(memory_format=CHANNELS_LAST)


class LengthConv(nn.Conv1d):
    """``nn.Conv1d`` (same parameters) that also convolves (B, C, 1, L) tensors along L.

    A 4-D input runs as a (1, k) ``conv2d`` and the output is kept in channels-last memory (an
    input with one channel is ambiguous, so oneDNN would otherwise answer in (B, C, 1, L) order).
    With ``phases`` > 1 a 4-D input is convolved in phase form (``sleep_kd.models.phases``),
    which U-Time uses for its 1-channel first convolution; 3-D inputs always run as ``Conv1d``.
    """

    phases: int = 1  # not a parameter: speed only, so checkpoints do not record it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            return super().forward(x)
        if self.phases > 1:
            return conv_in_phases(x, self, self.phases)
        return self.channels_last_conv(x, self.weight, self.bias)

    def channels_last_conv(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """This convolution (stride, padding, dilation, groups) with ``weight`` (out, in, k) and ``bias``:
        x (B, in, 1, L) -> (B, out, 1, L) in channels-last memory."""
        out = F.conv2d(x, weight.unsqueeze(2), bias, stride=(1, self.stride[0]),
                       padding=(0, self.padding[0]), dilation=(1, self.dilation[0]), groups=self.groups)
        return out.contiguous(memory_format=CHANNELS_LAST)


class LengthBatchNorm(nn.BatchNorm1d):
    """``nn.BatchNorm1d`` (same parameters and buffers) that also takes (B, C, 1, L) tensors."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() not in (2, 3, 4):
            raise ValueError(f"expected a 2-D, 3-D or (B, C, 1, L) input, got {x.dim()}-D")


class ConvBlock(nn.Module):
    """Conv1d -> ReLU -> BatchNorm1d, length preserving.

    Parameters
    ----------
    in_channels, out_channels : int
        Feature maps in and out.
    kernel_size : int
        Odd kernel size in samples (odd so that symmetric zero padding keeps the length).
    dilation : int
        Dilation of the kernel, in samples.

    Shapes: (B, in_channels, L) -> (B, out_channels, L), or the (B, C, 1, L) layout.
    """

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: int, dilation: int = 1) -> None:
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2
        self.conv = LengthConv(in_channels, out_channels, kernel_size, padding=padding, dilation=dilation)
        self.act = nn.ReLU(inplace=True)  # on the convolution's own output: one fewer tensor, 1.07x scoring
        self.norm = LengthBatchNorm(out_channels)
        # The original initialises every convolution this way; PyTorch's default differs.
        nn.init.xavier_uniform_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.act(self.conv(x)))

    def forward_upsampled(self, x: torch.Tensor, scale: int) -> torch.Tensor:
        """The block over x nearest-upsampled ``scale`` times: (..., L) -> (..., L * scale).

        In the (B, C, 1, L) layout the convolution runs in phase form on x itself, so the
        upsampled signal is never built (``sleep_kd.models.phases.conv_upsampled``).
        """
        if x.dim() != 4:
            return self(repeat_length(x, scale))
        return self.norm(self.act(conv_upsampled(x, self.conv, scale)))


def double_block(in_channels: int, out_channels: int, *, kernel_size: int, dilation: int) -> nn.Sequential:
    """Two :class:`ConvBlock` in a row: (B, in_channels, L) -> (B, out_channels, L)."""
    return nn.Sequential(
        ConvBlock(in_channels, out_channels, kernel_size=kernel_size, dilation=dilation),
        ConvBlock(out_channels, out_channels, kernel_size=kernel_size, dilation=dilation),
    )


def pool_length(x: torch.Tensor, size: int) -> torch.Tensor:
    """Max over non-overlapping runs of ``size`` samples: (..., L) -> (..., L // size)."""
    if x.dim() == 4:
        return F.max_pool2d(x, (1, size))
    return F.max_pool1d(x, size)


def repeat_length(x: torch.Tensor, scale: int) -> torch.Tensor:
    """Nearest upsampling along the length: (..., L) -> (..., L * scale)."""
    factor = (1.0, float(scale)) if x.dim() == 4 else float(scale)
    return F.interpolate(x, scale_factor=factor, mode="nearest")


class EncoderLevel(nn.Module):
    """Two blocks then max-pooling.

    Returns ``(skip, pooled)``: skip (B, out_channels, L) feeds the decoder,
    pooled (B, out_channels, L // pool_size) feeds the next level.
    """

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: int, dilation: int, pool_size: int) -> None:
        super().__init__()
        self.blocks = double_block(in_channels, out_channels, kernel_size=kernel_size, dilation=dilation)
        self.pool_size = pool_size

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        skip = self.blocks(x)
        return skip, pool_length(skip, self.pool_size)


class DecoderLevel(nn.Module):
    """Nearest upsampling, one block, concatenation with the skip, two blocks.

    Shapes: x (B, in_channels, L), skip (B, out_channels, L * scale) -> (B, out_channels, L * scale).
    The concatenation order is [skip, upsampled], as in the original.
    """

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: int, dilation: int, scale: int) -> None:
        super().__init__()
        self.scale = scale
        self.reduce = ConvBlock(in_channels, out_channels, kernel_size=kernel_size, dilation=dilation)
        self.blocks = double_block(2 * out_channels, out_channels, kernel_size=kernel_size, dilation=dilation)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = self.reduce.forward_upsampled(x, self.scale)
        return self.blocks(torch.cat([skip, up], dim=1))
