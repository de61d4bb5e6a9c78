"""A Conv1d over a nearest-upsampled input, computed on the low-rate input (phase form)."""

from __future__ import annotations

import torch
from torch import nn

from sleep_kd.fast.phases import PhaseForm, place_weight, run_phase_form, tap_placement, to_channels_last


class UpsampledConv1d(nn.Conv1d):
    """``conv(upsample(x, scale))`` without building the upsampled copy: (B, in, L) -> (B, out, L * scale).

    The same weights as the Conv1d it replaces (the same Parameter objects, under the same names),
    placed per output phase by ``sleep_kd.fast.phases`` at every call, so their gradients are the
    plain convolution's. Each output sample reads about ``1 + 2 * ceil(padding / scale)`` low-rate
    samples instead of ``kernel_size`` upsampled ones.
    """

    scale: int

    @classmethod
    def taking_over(cls, conv: nn.Conv1d, *, scale: int) -> "UpsampledConv1d":
        """A phase-form layer holding ``conv``'s own weight and bias (not copies)."""
        if conv.stride != (1,) or conv.groups != 1 or conv.padding_mode != "zeros":
            raise ValueError("UpsampledConv1d needs a stride-1, ungrouped, zero-padded Conv1d")
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size[0], padding=conv.padding[0],
                    dilation=conv.dilation[0], bias=conv.bias is not None, device="meta")
        layer.weight, layer.bias = conv.weight, conv.bias
        layer.scale = int(scale)
        placement, layer.reach = tap_placement(layer.kernel_size[0], layer.dilation[0], layer.padding[0], layer.scale, 1)
        # Where each tap lands (phases, k, 1, 2P + 1): fixed by the shape, so built once, not part of the state.
        layer.register_buffer("placement", placement.to(conv.weight.device).clone(), persistent=False)
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, in, L) -> (B, out, L * scale), contiguous (the plain layout of the layers around it)."""
        weight = place_weight(self.weight, self.placement)
        bias = None if self.bias is None else self.bias.repeat(self.scale)
        form = PhaseForm(weight, bias, self.reach, self.scale, 1, self.out_channels)
        return run_phase_form(to_channels_last(x), form).squeeze(2).contiguous()

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, over its input upsampled x{self.scale} (phase form)"
