"""Training forms: U-Time's blocks with layers swapped, in place, for equivalent faster ones.

The swapped layers compute the same function (to float rounding) with less work and hold the
network's own Parameters under the same names, so a run trained this way loads, scores and
resumes as the plain network (``train.fast_training: false`` trains the plain network itself, for
comparison). Unlike a scoring form (a frozen copy, BatchNorm folded, eval only), they train:
gradients and BatchNorm statistics are the plain network's. docs/speed.md has the measured
speed-ups.

- ``DecoderLevel``: its nearest upsampling and the convolution after it, as one convolution over
  the low-rate map in phase form (:class:`UpsampledConv1d`). At the last level that replaces a
  16 -> 8 channel convolution over 3,000 samples of an upsampled copy by a 16 -> 80 channel
  convolution over 300;
- ``UTime``: the head's 1x1 convolutions as matrix products over channels (:class:`PointwiseConv1d`);
- compiled only (``train.compile``): every other ``Conv1d`` as a height-1 conv2d
  (:class:`Conv1dAsConv2d`): the same in eager mode, but it lets ``torch.compile`` run the network
  in channels-last memory with ReLU and BatchNorm fused over it.
"""

from __future__ import annotations

from torch import nn

from sleep_kd.fast.forms import register_training
from sleep_kd.fast.training.as_conv2d import Conv1dAsConv2d
from sleep_kd.fast.training.pointwise import PointwiseConv1d
from sleep_kd.fast.training.upsampled import UpsampledConv1d
from sleep_kd.models.blocks import DecoderLevel
from sleep_kd.models.utime import UTime


@register_training(DecoderLevel)
def upsampled_reduce(level: DecoderLevel) -> DecoderLevel:
    """The level's upsampling folded into its first convolution (:class:`UpsampledConv1d`)."""
    if not isinstance(level.reduce.conv, UpsampledConv1d):
        level.reduce.conv = UpsampledConv1d.taking_over(level.reduce.conv, scale=level.scale)
        level.upsample = nn.Identity()
    return level


@register_training(UTime)
def pointwise_head(net: UTime) -> UTime:
    """The head's two 1x1 convolutions as matrix products (:class:`PointwiseConv1d`)."""
    for name in ("dense", "classify"):
        if not isinstance(getattr(net, name), PointwiseConv1d):
            setattr(net, name, PointwiseConv1d.taking_over(getattr(net, name)))
    return net


@register_training(nn.Conv1d, compiled=True)
def conv_as_conv2d(conv: nn.Conv1d) -> nn.Conv1d:
    """A plain ``Conv1d`` (not one of the forms above) as :class:`Conv1dAsConv2d`, where it fits."""
    return Conv1dAsConv2d.taking_over(conv) if type(conv) is nn.Conv1d and Conv1dAsConv2d.fits(conv) else conv


__all__ = ["Conv1dAsConv2d", "PointwiseConv1d", "UpsampledConv1d"]
