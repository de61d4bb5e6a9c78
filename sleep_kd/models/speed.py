"""A faster training layout for U-Time: the same modules and parameters, channels-last memory.

``use_fast_layout(model)`` swaps, in place, each ``Conv1d``, ``BatchNorm1d``, ``MaxPool1d`` and
``Upsample`` of a network for a subclass that keeps every parameter, buffer and state_dict key
(the very same ``Parameter`` objects, so an optimizer built before or after still holds them)
and runs it over feature maps stored samples-outer, channels-inner: a (B, C, L) tensor with
strides (L * C, 1, C), where oneDNN's convolutions over few channels and many samples are
faster than over (B, C, L) contiguous memory (bench/README.md). The network's own forward is
untouched: it still reads as the paper.

What changes is the order of the floating-point operations, not the operations:

- convolutions run as (1, k) ``conv2d`` over the (B, C, 1, L) channels-last view;
- BatchNorm's batch statistics are computed here, in float32, with ``torch.var_mean`` over the
  same view (oneDNN's own channels-last BatchNorm computes them with errors ~1e-4; these agree
  with float64 to ~1e-6, like the plain layout's), and its backward is the textbook one;
- pooling and upsampling run as their 2-D forms over the view.

Training in this layout is not bit-for-bit the plain layout's: in float64 a step agrees with it
to rounding, and in float32 its gradients are as close to float64 as the plain layout's
(tests/models/test_speed.py). Status: opt-in and benchmarked only (``bench/compute.py
--fast-layout``); the trainer does not apply it, because on the (shared) machine it was measured
on it was not faster as a whole step (bench/README.md), and no paired-seed training comparison
has been run.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sleep_kd.models.blocks import DecoderLevel

CHANNELS_LAST = torch.channels_last


def _view_4d(x: torch.Tensor) -> torch.Tensor:
    """(B, C, L) -> (B, C, 1, L) channels-last (no copy when x is already samples-outer)."""
    return x.unsqueeze(2).contiguous(memory_format=CHANNELS_LAST)


class FastConv1d(nn.Conv1d):
    """``nn.Conv1d`` over samples-outer memory: (B, C_in, L) -> (B, C_out, L) samples-outer."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(_view_4d(x), self.weight.unsqueeze(2), self.bias, stride=(1, self.stride[0]),
                       padding=(0, self.padding[0]), dilation=(1, self.dilation[0]), groups=self.groups)
        # With one channel out both layouts coincide and oneDNN may answer in either.
        return out.contiguous(memory_format=CHANNELS_LAST).squeeze(2)


class _BatchNormTrain(torch.autograd.Function):
    """Training-mode BatchNorm over dims (0, 2) of (B, C, L), statistics in float32.

    Forward ``y = x * scale + shift`` with ``scale = weight * invstd``, ``shift = bias - mean * scale``.
    Backward: the standard ``dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat))``, rewritten as
    ``dx = scale * dy + x * a + c`` per channel so that it is two passes over the map, not five.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        acc = torch.promote_types(x.dtype, torch.float32)  # float32 at least, float64 for a float64 model
        var, mean = torch.var_mean(x.to(acc), dim=(0, 2), correction=0)
        invstd = torch.rsqrt(var + eps)
        scale = invstd * weight.to(acc)
        shift = bias.to(acc) - mean * scale
        y = torch.addcmul(shift.to(x.dtype)[None, :, None], x, scale.to(x.dtype)[None, :, None])
        ctx.save_for_backward(x, mean, invstd, scale)
        return y, mean, var

    @staticmethod
    def backward(ctx, dy, _dmean, _dvar):
        x, mean, invstd, scale = ctx.saved_tensors
        n = x.shape[0] * x.shape[2]
        dbias = dy.sum(dim=(0, 2), dtype=scale.dtype)
        dyx = (dy * x).sum(dim=(0, 2), dtype=scale.dtype)  # sum of dy * x per channel
        dweight = invstd * (dyx - mean * dbias)  # sum(dy * xhat)
        a = -scale * invstd * dweight / n
        c = -scale * dbias / n - a * mean
        dx = torch.addcmul(c.to(x.dtype)[None, :, None], x, a.to(x.dtype)[None, :, None])
        dx.addcmul_(dy, scale.to(x.dtype)[None, :, None])
        return dx, dweight.to(scale.dtype), dbias.to(scale.dtype), None


class FastBatchNorm1d(nn.BatchNorm1d):
    """``nn.BatchNorm1d`` whose training statistics are computed in float32 by ``torch.var_mean``.

    Eval mode (running statistics) is the elementwise map it always is.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and self.track_running_stats and self.affine and self.momentum is not None):
            return super().forward(x)
        y, mean, var = _BatchNormTrain.apply(x, self.weight, self.bias, self.eps)
        with torch.no_grad():
            n = x.shape[0] * x.shape[2]
            self.running_mean.lerp_(mean.to(self.running_mean.dtype), self.momentum)
            self.running_var.lerp_((var * (n / max(n - 1, 1))).to(self.running_var.dtype), self.momentum)
            self.num_batches_tracked.add_(1)
        return y


class FastMaxPool1d(nn.MaxPool1d):
    """``nn.MaxPool1d`` (no padding, dilation 1) over samples-outer memory."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(_view_4d(x), (1, self.kernel_size), (1, self.stride), ceil_mode=self.ceil_mode).squeeze(2)


class FastUpsample(nn.Upsample):
    """Nearest ``nn.Upsample`` over samples-outer memory."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.interpolate(_view_4d(x), scale_factor=(1.0, float(self.scale_factor)), mode="nearest")
        return out.contiguous(memory_format=CHANNELS_LAST).squeeze(2)


class FastDecoderLevel(DecoderLevel):
    """U-Time's decoder level with the concatenation written samples-outer (torch.cat of 3-D
    tensors would answer in (B, C, L) order, and the next convolution would copy it back)."""

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = self.reduce(self.upsample(x))
        return self.blocks(torch.cat([_view_4d(skip), _view_4d(up)], dim=1).squeeze(2))


_SWAPS = {nn.Conv1d: FastConv1d, nn.BatchNorm1d: FastBatchNorm1d, nn.MaxPool1d: FastMaxPool1d,
          nn.Upsample: FastUpsample, DecoderLevel: FastDecoderLevel}


def _swappable(module: nn.Module) -> type | None:
    fast = _SWAPS.get(type(module))
    if fast is FastConv1d and (module.padding_mode != "zeros" or isinstance(module.padding, str)):
        return None
    if fast is FastMaxPool1d and (module.padding != 0 or module.dilation != 1 or module.return_indices):
        return None
    if fast is FastUpsample and (module.mode != "nearest" or module.size is not None):
        return None
    return fast


def use_fast_layout(model: nn.Module) -> nn.Module:
    """Switch ``model``'s layers to the samples-outer training layout, in place; returns ``model``.

    Only the class of each layer changes (``module.__class__``): parameters, buffers, hooks and
    state_dict keys stay. Layers of other kinds, and those the swap does not cover (non-zero
    padding modes, pooling with padding, non-nearest upsampling), are left as they are.
    """
    for module in model.modules():
        fast = _swappable(module)
        if fast is not None:
            module.__class__ = fast
    return model


def uses_fast_layout(model: nn.Module) -> bool:
    """Whether any layer of ``model`` runs in the fast layout."""
    return any(type(m) in _SWAPS.values() for m in model.modules())
