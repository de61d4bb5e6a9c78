"""Eval logits without BatchNorm passes: each BatchNorm folded into the layer that reads it.

In eval mode a U-Time block's output is ``scale * relu(conv(x)) + shift`` per channel, with
``scale`` and ``shift`` from the BatchNorm's running statistics. Applying them is a full pass
over the feature map (at 3000 samples x 8 channels, the slowest pass of the network). This path
carries them along instead, as a *pending* map that the next layer absorbs:

- a convolution reading ``scale * r + shift`` gets its weights multiplied by ``scale`` per input
  channel, and ``sum(W * shift)`` added to its bias, except at the first and last ``padding``
  output samples, whose taps that fall in the zero padding never saw ``shift`` (the *edge*
  correction, subtracted there);
- the convolution after a decoder's concatenation runs as two convolutions, one per input part,
  each absorbing its own part's map, summed (the concatenation is never built); the 1x1 head
  has no edges;
- max-pooling commutes with a map whose scales are all >= 0; a level with a negative BatchNorm
  weight (max would become min) applies its map before pooling.

The logits equal the plain eval forward's to float rounding (tests/models/test_folding.py).
``UTime.scoring()`` turns this path on: the folded parameters are computed once, as constants
(gradients still reach the input, not the parameters), and reused by every batch inside. Outside
it, and for a forward that returns taps, the plain blocks run, so every tap is a real feature map.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, TypeVar

import torch
from torch import nn

from sleep_kd.models.blocks import ConvBlock, LengthConv, pool_length
from sleep_kd.models.phases import PhaseForm, phase_form, run_phase_form

T = TypeVar("T")


class Pending(NamedTuple):
    """Per-channel map not yet applied: the real feature map is ``raw * scale + shift`` (each (C,))."""

    scale: torch.Tensor
    shift: torch.Tensor


class FoldedConv(NamedTuple):
    """A convolution with the pending map of its input absorbed."""

    weight: torch.Tensor | PhaseForm  # (O, I, k) for the plain form, or a phase form
    bias: torch.Tensor | None  # (O,), for the plain form
    left: torch.Tensor  # (O, n_left) to subtract from the first output samples
    right: torch.Tensor  # (O, n_right) to subtract from the last output samples


def batchnorm_map(norm: nn.BatchNorm1d) -> Pending:
    """The eval-mode BatchNorm as ``scale * x + shift`` (running statistics)."""
    scale = torch.rsqrt(norm.running_var + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight
    shift = -norm.running_mean * scale
    return Pending(scale, shift if norm.bias is None else shift + norm.bias)


def apply_map(x: torch.Tensor, pending: Pending | None) -> torch.Tensor:
    """The real feature map from a raw one: (B, C, 1, L) -> (B, C, 1, L)."""
    if pending is None:
        return x
    view = (1, -1, 1, 1)
    return torch.addcmul(pending.shift.to(x.dtype).view(view), x, pending.scale.to(x.dtype).view(view))


def edge_corrections(weight: torch.Tensor, shift: torch.Tensor, *, dilation: int, padding: int,
                     length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """What a shift (I,) adds through the bias but the zero padding did not: (O, left), (O, right).

    Output sample ``t`` reads input ``t + j * dilation - padding`` with tap ``j`` of weight
    (O, I, k); taps outside ``[0, length)`` read zeros in the plain forward.
    """
    per_tap = torch.einsum("oik,i->ok", weight, shift)
    offsets = torch.arange(weight.shape[-1]) * dilation - padding
    left = torch.arange(min(padding, length))
    right = torch.arange(max(length - padding, len(left)), length)

    def outside(positions: torch.Tensor) -> torch.Tensor:
        reads = positions[None, :] + offsets[:, None]  # (k, n)
        return ((reads < 0) | (reads >= length)).to(per_tap)

    return per_tap @ outside(left), per_tap @ outside(right)


def fold_conv(conv: LengthConv, pending: Pending | None, *, length: int, upsample: int = 1,
              channels: slice = slice(None), with_bias: bool = True) -> FoldedConv:
    """``conv`` over (pending applied to its input), with ``length`` output samples.

    ``upsample`` > 1: the input is read nearest-upsampled that many times (phase form).
    ``channels``: only these input channels of ``conv`` (one part of a concatenated input);
    ``with_bias=False`` leaves the bias to another part.
    """
    weight = conv.weight[:, channels]
    bias = conv.bias if with_bias else torch.zeros_like(conv.bias)
    dilation, padding = conv.dilation[0], conv.padding[0]
    left = right = weight.new_zeros(weight.shape[0], 0)
    if pending is not None:
        bias = bias + torch.einsum("oik,i->o", weight, pending.shift)
        left, right = edge_corrections(weight, pending.shift, dilation=dilation, padding=padding, length=length)
        weight = weight * pending.scale[None, :, None]
    phases, in_phases = (upsample, 1) if upsample > 1 else (conv.phases, conv.phases)
    if phases > 1:
        form = phase_form(weight, bias, dilation=dilation, padding=padding, phases=phases, in_phases=in_phases)
        return FoldedConv(form, None, left, right)
    return FoldedConv(weight.contiguous(), bias, left, right)


def run_folded(folded: FoldedConv, conv: LengthConv, x: torch.Tensor) -> torch.Tensor:
    """x (B, I, 1, L_in) channels-last -> (B, O, 1, L) channels-last."""
    if isinstance(folded.weight, PhaseForm):
        out = run_phase_form(x, folded.weight)
    else:
        out = conv.channels_last_conv(x, folded.weight, folded.bias)
    n_left, n_right = folded.left.shape[1], folded.right.shape[1]
    if n_left:
        out[..., :n_left] -= folded.left.to(out.dtype)[None, :, None, :]
    if n_right:
        out[..., out.shape[-1] - n_right:] -= folded.right.to(out.dtype)[None, :, None, :]
    return out


class _Folder:
    """One folded forward; values derived from the parameters are computed once into ``memo``."""

    def __init__(self, memo: dict, device_type: str) -> None:
        self.memo = memo
        self.device_type = device_type

    def cached(self, key: tuple, compute: Callable[[], T]) -> T:
        if key not in self.memo:
            # Constants: no graph to the parameters, in their own precision.
            with torch.no_grad(), torch.autocast(self.device_type, enabled=False):
                self.memo[key] = compute()
        return self.memo[key]

    def conv(self, conv: LengthConv, x: torch.Tensor, pending: Pending | None, upsample: int = 1) -> torch.Tensor:
        length = x.shape[-1] * upsample
        folded = self.cached(("conv", id(conv)),
                             lambda: fold_conv(conv, pending, length=length, upsample=upsample))
        return run_folded(folded, conv, x)

    def block(self, block: ConvBlock, x: torch.Tensor, pending: Pending | None,
              upsample: int = 1) -> tuple[torch.Tensor, Pending]:
        raw = torch.relu_(self.conv(block.conv, x, pending, upsample))
        return raw, self.cached(("norm", id(block.norm)), lambda: batchnorm_map(block.norm))

    def blocks(self, blocks: nn.Sequential, x: torch.Tensor, pending: Pending | None) -> tuple[torch.Tensor, Pending]:
        for block in blocks:
            x, pending = self.block(block, x, pending)
        return x, pending

    def joined_block(self, block: ConvBlock, skip: tuple[torch.Tensor, Pending | None],
                     up: tuple[torch.Tensor, Pending]) -> tuple[torch.Tensor, Pending]:
        """The block over cat([skip, up]) on channels, without concatenating: the convolution's two
        input parts run apart and are summed (1.2x the concatenation and one convolution)."""
        conv, n_skip = block.conv, skip[0].shape[1]
        length = skip[0].shape[-1]
        first = self.cached(("skip part", id(conv)),
                            lambda: fold_conv(conv, skip[1], length=length, channels=slice(0, n_skip)))
        second = self.cached(("up part", id(conv)), lambda: fold_conv(
            conv, up[1], length=length, channels=slice(n_skip, None), with_bias=False))
        out = run_folded(first, conv, skip[0]).add_(run_folded(second, conv, up[0]))
        return torch.relu_(out), self.cached(("norm", id(block.norm)), lambda: batchnorm_map(block.norm))


def forward_folded(model, x: torch.Tensor, memo: dict) -> torch.Tensor:
    """U-Time's eval logits with every BatchNorm folded: x (B, C, 1, L) channels-last -> (B, n_classes).

    ``memo`` keeps the folded parameters between calls (empty at first): valid while the
    parameters do not change.
    """
    fold = _Folder(memo, x.device.type)
    skips = []
    pending: Pending | None = None
    for i, level in enumerate(model.encoder):
        x, pending = fold.blocks(level.blocks, x, pending)
        if fold.cached(("negative-scale", i), lambda: bool((pending.scale < 0).any())):
            x, pending = apply_map(x, pending), None  # max-pooling a negative scale would pick the min
        skips.append((x, pending))
        x = pool_length(x, level.pool_size)
    x, pending = fold.blocks(model.bottleneck, x, pending)
    for level, skip in zip(model.decoder, reversed(skips)):
        up = fold.block(level.reduce, x, pending, upsample=level.scale)
        x, pending = fold.joined_block(level.blocks[0], skip, up)
        x, pending = fold.blocks(level.blocks[1:], x, pending)
    scores = torch.tanh_(fold.conv(model.dense, x, pending))
    return model.classify(scores.mean(dim=-1, keepdim=True)).flatten(1)
