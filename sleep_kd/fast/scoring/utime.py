"""The scoring form of a trained U-Time: the same eval logits, faster, frozen.

Built from a :class:`sleep_kd.models.UTime` by :func:`sleep_kd.fast.for_scoring`. What
differs from the plain eval forward, all of it arithmetic-preserving (the logits agree to float
rounding, ``tests/deploy/test_for_scoring.py``):

- every tensor is (B, C, 1, L) in channels-last memory: oneDNN's convolutions over 8-16 channels
  x 3000 samples and the 1x1 head are several times faster there than over (B, C, L);
- the 1-channel first convolution runs in phase form, and each decoder convolution over a
  nearest-upsampled map runs on the map itself, in phase form (``sleep_kd.fast.phases``);
- every BatchNorm is folded into the convolution that reads it (``sleep_kd.fast.scoring.layers``);
- the convolution after a decoder's concatenation runs as two convolutions, one per input part,
  summed: the concatenation is never built.

The speed figures per machine are in bench/README.md (``python -m bench.score``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sleep_kd.fast.scoring.layers import ApplyMap, ChannelMap, FoldedConv, batchnorm_map
from sleep_kd.fast.phases import to_channels_last
from sleep_kd.errors import InputError


def first_conv_phases(in_channels: int, n_times: int) -> int:
    """Phases of the first convolution: 4 (or 2) for one input channel, else 1.

    oneDNN runs a 1-channel convolution several times slower than the same work over 4 channels
    at a quarter of the length; with 2 or more channels in, the plain convolution is faster.
    """
    if in_channels != 1:
        return 1
    return next((p for p in (4, 2) if n_times % p == 0), 1)


class _Stage(nn.Module):
    """Folded convolutions in a row, each followed by ReLU; the last BatchNorm's map stays pending."""

    def __init__(self, blocks, pending: ChannelMap | None, *, length: int, first_phases: int = 1) -> None:
        super().__init__()
        convs = []
        for j, block in enumerate(blocks):
            convs.append(FoldedConv(block.conv, pending, length=length, phases=first_phases if j == 0 else 1))
            pending = batchnorm_map(block.norm)
        self.convs = nn.ModuleList(convs)
        self.pending = pending

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = torch.relu_(conv(x))
        return x


class _EncoderStage(nn.Module):
    """An encoder level: its blocks, then max-pooling; returns (skip, pooled), both raw."""

    def __init__(self, level, pending: ChannelMap | None, *, length: int, first_phases: int) -> None:
        super().__init__()
        self.blocks = _Stage(level.blocks, pending, length=length, first_phases=first_phases)
        self.pool_size = level.pool_size
        pending = self.blocks.pending
        # max(scale * r + shift) = scale * max(r) + shift only where scale >= 0; a negative
        # BatchNorm weight would turn max into min, so that level applies its map first.
        negative = bool((pending.scale < 0).any())
        self.apply_map = ApplyMap(pending) if negative else None
        self.pending = None if negative else pending  # what the skip and the pooled map owe

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.blocks(x)
        if self.apply_map is not None:
            x = self.apply_map(x)
        return x, F.max_pool2d(x, (1, self.pool_size))


class _DecoderStage(nn.Module):
    """A decoder level over (x, skip), both raw with their pending maps folded into the convolutions."""

    def __init__(self, level, pending: ChannelMap | None, skip_pending: ChannelMap | None, *, length: int,
                 n_skip: int) -> None:
        super().__init__()
        self.up = FoldedConv(level.reduce.conv, pending, length=length, phases=level.scale, upsampled=True)
        up_pending = batchnorm_map(level.reduce.norm)
        joined = level.blocks[0]
        self.skip_part = FoldedConv(joined.conv, skip_pending, length=length, channels=slice(0, n_skip))
        self.up_part = FoldedConv(joined.conv, up_pending, length=length, channels=slice(n_skip, None),
                                  with_bias=False)
        self.rest = _Stage(level.blocks[1:], batchnorm_map(joined.norm), length=length)
        self.pending = self.rest.pending

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = torch.relu_(self.up(x))
        x = torch.relu_(self.skip_part(skip).add_(self.up_part(up)))
        return self.rest(x)


class ScoringUTime(nn.Module):
    """A trained U-Time's eval forward, frozen: (B, in_channels, n_times) -> logits (B, n_classes).

    Holds no parameters (every constant is a buffer, so ``.to(device)`` moves it); cannot be put
    in training mode. Gradients reach the input (for attribution maps), never the source model.
    ``config``, ``n_times``, ``in_channels`` and ``n_classes`` are the source model's.
    """

    def __init__(self, model) -> None:
        super().__init__()
        self.config: dict[str, Any] = dict(model.config)
        self.n_times, self.in_channels, self.n_classes = model.n_times, model.in_channels, model.n_classes
        length, pending = model.n_times, None
        stages, skips = [], []
        for i, level in enumerate(model.encoder):
            phases = first_conv_phases(model.in_channels, length) if i == 0 else 1
            stages.append(_EncoderStage(level, pending, length=length, first_phases=phases))
            skips.append((stages[-1].pending, length, level.blocks[-1].conv.out_channels))
            pending, length = stages[-1].pending, length // level.pool_size
        self.encoder = nn.ModuleList(stages)
        self.bottleneck = _Stage(model.bottleneck, pending, length=length)
        pending, stages = self.bottleneck.pending, []
        for level, (skip_pending, length, n_skip) in zip(model.decoder, reversed(skips)):
            stages.append(_DecoderStage(level, pending, skip_pending, length=length, n_skip=n_skip))
            pending = stages[-1].pending
        self.decoder = nn.ModuleList(stages)
        self.dense = FoldedConv(model.dense, pending, length=model.n_times)
        self.register_buffer("classify_weight", model.classify.weight.detach()[:, :, 0].clone())
        self.register_buffer("classify_bias", model.classify.bias.detach().clone())
        super().train(False)

    def train(self, mode: bool = True) -> "ScoringUTime":
        if mode:
            raise RuntimeError("a scoring module is eval-only: train the source UTime, then call for_scoring again")
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, n_classes) of windows x (B, in_channels, n_times)."""
        expected = (self.in_channels, self.n_times)
        if x.ndim != 3 or tuple(x.shape[1:]) != expected:
            raise InputError(
                f"model {self.config['name']!r} expects input (batch, channels, samples) with "
                f"(channels, samples) = {expected}, got shape {tuple(x.shape)}"
            )
        x, skips = to_channels_last(x), []
        for stage in self.encoder:
            skip, x = stage(x)
            skips.append(skip)
        x = self.bottleneck(x)
        for stage, skip in zip(self.decoder, reversed(skips)):
            x = stage(x, skip)
        scores = torch.tanh_(self.dense(x))  # (B, n_classes, 1, n_times)
        mean = scores.mean(dim=(2, 3))
        return F.linear(mean, self.classify_weight.to(mean.dtype), self.classify_bias.to(mean.dtype))
