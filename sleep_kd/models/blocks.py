"""Building blocks of U-Time: the convolution block and the encoder/decoder levels.

Block order follows the original implementation: convolution, ReLU, then BatchNorm (the
normalisation comes after the activation), with zero padding that keeps the length. Every
tensor is (B, C, L): batch, feature maps, samples. Plain ``torch.nn`` layers only; the fast
scoring and training forms live in ``sleep_kd.fast``, which reads the attributes named in
``sleep_kd.models.utime.FAST_FORM_CONTRACT``.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvBlock(nn.Module):
    """Conv1d -> ReLU -> BatchNorm1d, length preserving: (B, in_channels, L) -> (B, out_channels, L).

    Parameters
    ----------
    in_channels, out_channels : int
        Feature maps in and out.
    kernel_size : int
        Odd kernel size in samples (odd so that symmetric zero padding keeps the length).
    dilation : int
        Dilation of the kernel, in samples.
    """

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: int, dilation: int = 1) -> None:
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=padding, dilation=dilation)
        self.act = nn.ReLU(inplace=True)  # on the convolution's own output: one fewer feature map
        self.norm = nn.BatchNorm1d(out_channels)
        # The original initialises every convolution this way; PyTorch's default differs.
        nn.init.xavier_uniform_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.act(self.conv(x)))


def double_block(in_channels: int, out_channels: int, *, kernel_size: int, dilation: int) -> nn.Sequential:
    """Two :class:`ConvBlock` in a row: (B, in_channels, L) -> (B, out_channels, L)."""
    return nn.Sequential(
        ConvBlock(in_channels, out_channels, kernel_size=kernel_size, dilation=dilation),
        ConvBlock(out_channels, out_channels, kernel_size=kernel_size, dilation=dilation),
    )


class EncoderLevel(nn.Module):
    """Two blocks then max-pooling.

    Returns ``(skip, pooled)``: skip (B, out_channels, L) feeds the decoder,
    pooled (B, out_channels, L // pool_size) feeds the next level.
    """

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: int, dilation: int, pool_size: int) -> None:
        super().__init__()
        self.blocks = double_block(in_channels, out_channels, kernel_size=kernel_size, dilation=dilation)
        self.pool = nn.MaxPool1d(pool_size)
        self.pool_size = pool_size

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        skip = self.blocks(x)
        return skip, self.pool(skip)


class DecoderLevel(nn.Module):
    """Nearest upsampling, one block, concatenation with the skip, two blocks.

    Shapes: x (B, in_channels, L), skip (B, out_channels, L * scale) -> (B, out_channels, L * scale).
    The concatenation order is [skip, upsampled], as in the original.
    """

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: int, dilation: int, scale: int) -> None:
        super().__init__()
        self.scale = scale
        self.upsample = nn.Upsample(scale_factor=float(scale), mode="nearest")
        self.reduce = ConvBlock(in_channels, out_channels, kernel_size=kernel_size, dilation=dilation)
        self.blocks = double_block(2 * out_channels, out_channels, kernel_size=kernel_size, dilation=dilation)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = self.reduce(self.upsample(x))
        return self.blocks(torch.cat([skip, up], dim=1))
