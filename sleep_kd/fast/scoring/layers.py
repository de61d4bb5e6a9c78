"""Frozen layers of a scoring module: convolutions with the BatchNorm before them folded in.

In eval mode a U-Time block's output is ``scale * relu(conv(x)) + shift`` per channel, with
``scale`` and ``shift`` from the BatchNorm's running statistics. Applying them is a full pass over
the feature map. A scoring module carries them along instead, as a *pending* map
(:class:`ChannelMap`) that the next convolution absorbs (:class:`FoldedConv`):

- a convolution reading ``scale * r + shift`` gets its weights multiplied by ``scale`` per input
  channel and ``sum(W * shift)`` added to its bias, except at the first and last ``padding``
  output samples, whose taps that fall in the zero padding never saw ``shift`` (the *edge*
  correction, subtracted there);
- max-pooling commutes with a map whose scales are all >= 0 (``sleep_kd.fast.scoring.utime`` applies a
  map with a negative scale before pooling, :class:`ApplyMap`).

Every layer takes and returns (B, C, 1, L) tensors in channels-last memory
(``sleep_kd.fast.phases``); every constant is a buffer computed once, at construction, in the
source parameters' precision, with no graph to them.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from sleep_kd.fast.phases import CHANNELS_LAST, PhaseForm, phase_weight, run_phase_form


class ChannelMap(NamedTuple):
    """Per-channel map not yet applied: the real feature map is ``raw * scale + shift`` (each (C,))."""

    scale: torch.Tensor
    shift: torch.Tensor


def batchnorm_map(norm: nn.BatchNorm1d) -> ChannelMap:
    """The eval-mode BatchNorm (running statistics) as ``scale * x + shift``."""
    scale = torch.rsqrt(norm.running_var + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight
    shift = -norm.running_mean * scale
    return ChannelMap(scale.detach(), (shift if norm.bias is None else shift + norm.bias).detach())


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


class FoldedConv(nn.Module):
    """``conv`` over (``pending`` applied to its input), frozen: (B, I, 1, L_in) -> (B, O, 1, length).

    Parameters
    ----------
    conv : nn.Conv1d
        Stride 1, zero padding, no groups.
    pending : ChannelMap or None
        The map its input still owes (None: the input is the real feature map).
    length : int
        Output samples (the edge corrections depend on it).
    phases : int
        > 1: run in phase form (``sleep_kd.fast.phases``); with ``upsampled`` the input is read
        nearest-upsampled ``phases`` times (L_in = length / phases), else split into phases.
    channels : slice
        Only these input channels of ``conv`` (one part of a concatenated input);
        ``with_bias=False`` leaves the bias to another part.
    """

    def __init__(self, conv: nn.Conv1d, pending: ChannelMap | None, *, length: int, phases: int = 1,
                 upsampled: bool = False, channels: slice = slice(None), with_bias: bool = True) -> None:
        super().__init__()
        if conv.stride[0] != 1 or conv.groups != 1 or conv.padding_mode != "zeros":
            raise ValueError("a folded convolution needs a stride-1, ungrouped, zero-padded Conv1d")
        self.dilation, self.padding = conv.dilation[0], conv.padding[0]
        self.phases, self.in_phases = phases, (1 if upsampled else phases)
        with torch.no_grad(), torch.autocast(conv.weight.device.type, enabled=False):
            weight = conv.weight[:, channels]
            bias = conv.bias if with_bias else torch.zeros_like(conv.bias)
            left = right = weight.new_zeros(weight.shape[0], 0)
            if pending is not None:
                bias = bias + torch.einsum("oik,i->o", weight, pending.shift)
                left, right = edge_corrections(weight, pending.shift, dilation=self.dilation, padding=self.padding,
                                               length=length)
                weight = weight * pending.scale[None, :, None]
            self.out_channels = weight.shape[0]
            if phases > 1:
                weight, self.reach = phase_weight(weight, dilation=self.dilation, padding=self.padding,
                                                  phases=phases, in_phases=self.in_phases)
                bias = bias.repeat(phases)
            else:
                weight, self.reach = weight.unsqueeze(2), self.padding  # (O, I, 1, k) for conv2d
        # Copies: the scoring module is a snapshot, not a view of the source's parameters.
        self.register_buffer("weight", weight.detach().clone(memory_format=torch.contiguous_format))
        self.register_buffer("bias", bias.detach().clone())
        self.register_buffer("left", left.detach().contiguous())
        self.register_buffer("right", right.detach().contiguous())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.phases > 1:
            out = run_phase_form(x, PhaseForm(self.weight, self.bias, self.reach, self.phases, self.in_phases,
                                              self.out_channels))
        else:
            out = F.conv2d(x, self.weight, self.bias, padding=(0, self.padding), dilation=(1, self.dilation))
            out = out.contiguous(memory_format=CHANNELS_LAST)
        n_left, n_right = self.left.shape[1], self.right.shape[1]
        if n_left:
            out[..., :n_left] -= self.left.to(out.dtype)[None, :, None, :]
        if n_right:
            out[..., out.shape[-1] - n_right:] -= self.right.to(out.dtype)[None, :, None, :]
        return out


class ApplyMap(nn.Module):
    """Apply a pending map: (B, C, 1, L) -> (B, C, 1, L), ``x * scale + shift`` per channel."""

    def __init__(self, pending: ChannelMap) -> None:
        super().__init__()
        self.register_buffer("scale", pending.scale.detach().clone())
        self.register_buffer("shift", pending.shift.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        view = (1, -1, 1, 1)
        return torch.addcmul(self.shift.to(x.dtype).view(view), x, self.scale.to(x.dtype).view(view))
