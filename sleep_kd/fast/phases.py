"""The same convolution computed on a signal split into phases (polyphase form), for speed only.

A length-``L`` signal with ``C`` channels in channels-last memory, (B, C, 1, L) stored as
[B][L][C], is also a length-``L / S`` signal with ``S * C`` channels: sample ``S * s + r`` of
channel ``c`` is channel ``r * C + c`` at position ``s``, with no copy. A convolution over the
first signal is a convolution over the second, whose weights place each tap of the original at the
phase and low-rate offset it reads. The arithmetic is the same products and sums (a tap that
lands on the same input twice has its weights added), only the loop order differs. Two uses:

- ``conv_in_phases``: the network's first convolution (1 channel in) as an S-channel convolution
  over ``L / S`` positions: oneDNN is slow when there is one input channel (docs/speed.md).
- ``conv_upsampled``: a convolution over a nearest-upsampled input reads each low-rate sample
  ``S`` times; in phase form it runs on the low-rate input directly, so the upsampled signal is
  never built and the work falls from ``k`` taps to about ``1 + 2 * ceil(p / S)`` per output.

Both take and return channels-last (B, C, 1, L) tensors (:func:`to_channels_last`): the layout
the scoring module runs in (``sleep_kd.fast.scoring``). The training form of a convolution over
an upsampled map (``sleep_kd.fast.training.upsampled``) runs the same phase form.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

CHANNELS_LAST = torch.channels_last


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """(B, C, 1, L) in channels-last memory (samples outer, channels inner), from (B, C, L) or (B, C, 1, L)."""
    if x.dim() == 3:
        x = x.unsqueeze(2)
    return x.contiguous(memory_format=CHANNELS_LAST)


@lru_cache(maxsize=64)
def tap_placement(kernel_size: int, dilation: int, padding: int, phases: int,
                   in_phases: int) -> tuple[torch.Tensor, int]:
    """One-hot (phases, kernel_size, in_phases, 2P + 1) map of where each tap lands, and P.

    Output phase ``r``'s tap ``j`` reads the full-rate sample ``S * s + r + j * dilation - padding``:
    low-rate offset ``floor(pos / S)`` and, when the input is split too, input phase ``pos mod S``.
    """
    places = []
    for r in range(phases):
        for j in range(kernel_size):
            pos = r + j * dilation - padding
            places.append((r, j, pos % phases if in_phases > 1 else 0, pos // phases))
    reach = max(abs(offset) for *_, offset in places)
    onehot = torch.zeros(phases, kernel_size, in_phases, 2 * reach + 1)
    for r, j, q, offset in places:
        onehot[r, j, q, offset + reach] = 1.0
    return onehot, reach


def phase_weight(weight: torch.Tensor, *, dilation: int, padding: int, phases: int,
                 in_phases: int) -> tuple[torch.Tensor, int]:
    """Weights of the phase-form convolution.

    Parameters
    ----------
    weight : Tensor (out, in, k)
        The ``Conv1d`` weight (stride 1, zero padding ``padding``).
    phases : int
        Output phases S.
    in_phases : int
        S when the input is at the output's rate, 1 when it is at 1/S of it (nearest-upsampled).

    Returns
    -------
    Tensor (S * out, in_phases * in, 1, 2P + 1) and the low-rate padding P.
    """
    onehot, reach = tap_placement(weight.shape[-1], dilation, padding, phases, in_phases)
    return place_weight(weight, onehot), reach


def place_weight(weight: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
    """weight (out, in, k) placed by :func:`tap_placement`'s map (S, k, in_phases, 2P + 1):
    (S * out, in_phases * in, 1, 2P + 1). Differentiable in ``weight``."""
    phases, _, in_phases, width = onehot.shape
    out_ch, in_ch, _ = weight.shape
    with torch.autocast(weight.device.type, enabled=False):  # place the weights in their own precision
        placed = torch.einsum("rjqm,oij->roqim", onehot.to(weight), weight)
    return placed.reshape(phases * out_ch, in_phases * in_ch, 1, width)


def _phase_view(x: torch.Tensor, phases: int) -> torch.Tensor:
    """(B, C, 1, L) channels-last -> (B, S * C, 1, L / S) channels-last, the same memory."""
    b, c, _, length = x.shape
    return x.permute(0, 2, 3, 1).reshape(b, 1, length // phases, phases * c).permute(0, 3, 1, 2)


class PhaseForm(NamedTuple):
    """A convolution ready to run in phase form (see :func:`phase_form`)."""

    weight: torch.Tensor  # (S * out, in_phases * in, 1, 2P + 1)
    bias: torch.Tensor | None  # (S * out,)
    reach: int  # P, the low-rate padding
    phases: int  # S
    in_phases: int  # S, or 1 for a nearest-upsampled input
    out_channels: int


def phase_form(weight: torch.Tensor, bias: torch.Tensor | None, *, dilation: int, padding: int, phases: int,
               in_phases: int) -> PhaseForm:
    """Weights and bias (out,) of a stride-1 ``Conv1d`` placed for :func:`run_phase_form`."""
    placed, reach = phase_weight(weight, dilation=dilation, padding=padding, phases=phases, in_phases=in_phases)
    return PhaseForm(placed, None if bias is None else bias.repeat(phases), reach, phases, in_phases, weight.shape[0])


def run_phase_form(x: torch.Tensor, form: PhaseForm) -> torch.Tensor:
    """x (B, in, 1, L_in) channels-last -> (B, out, 1, L_in * S / in_phases) channels-last."""
    x = x.contiguous(memory_format=CHANNELS_LAST)
    if form.in_phases > 1:
        if x.shape[-1] % form.in_phases:
            raise ValueError(f"a length of {x.shape[-1]} samples does not split into {form.in_phases} phases")
        x = _phase_view(x, form.in_phases)
    out = F.conv2d(x, form.weight, form.bias, padding=(0, form.reach)).contiguous(memory_format=CHANNELS_LAST)
    b, _, _, length = out.shape
    out = out.permute(0, 2, 3, 1).reshape(b, 1, length * form.phases, form.out_channels)
    return out.permute(0, 3, 1, 2)


def _check(conv: nn.Conv1d, x: torch.Tensor) -> None:
    if conv.stride[0] != 1 or conv.groups != 1 or conv.padding_mode != "zeros" or x.dim() != 4:
        raise ValueError("phase form needs a stride-1, ungrouped, zero-padded Conv1d and a (B, C, 1, L) input")


def conv_in_phases(x: torch.Tensor, conv: nn.Conv1d, phases: int) -> torch.Tensor:
    """``conv`` over x (B, in, 1, L) channels-last, computed as S phases: (B, out, 1, L) channels-last.

    ``L`` must be a multiple of ``phases``.
    """
    _check(conv, x)
    return run_phase_form(x, phase_form(conv.weight, conv.bias, dilation=conv.dilation[0], padding=conv.padding[0],
                                        phases=phases, in_phases=phases))


def conv_upsampled(x: torch.Tensor, conv: nn.Conv1d, scale: int) -> torch.Tensor:
    """``conv`` over x nearest-upsampled ``scale`` times, without upsampling.

    x (B, in, 1, L) channels-last -> (B, out, 1, L * scale) channels-last, equal to
    ``conv`` over ``x`` repeated ``scale`` times along L.
    """
    _check(conv, x)
    return run_phase_form(x, phase_form(conv.weight, conv.bias, dilation=conv.dilation[0], padding=conv.padding[0],
                                        phases=scale, in_phases=1))
