"""Faster training forms of the networks: ``for_training(model)`` swaps in equivalent layers, in place.

The networks in ``sleep_kd.models`` say what they are, in plain layers. Training runs some of
those layers in a form that computes the same function (to float rounding) with less work, and
keeps the network's parameters, state_dict keys and checkpoints exactly as they were, so a run
trained this way loads, scores and resumes as the plain network (``train.fast_training: false``
trains the plain network itself, for comparison). Unlike ``sleep_kd.deploy.for_scoring`` (a
frozen copy, BatchNorm folded, eval only), the swapped layers share the model's parameters and
train: gradients and BatchNorm statistics are the plain network's.

The forms (bench/README.md has the measured speed-ups):

- each decoder level's nearest upsampling and the convolution after it, as one convolution over
  the low-rate map in phase form (:class:`UpsampledConv1d`). At the last level that replaces a
  16 -> 8 channel convolution over 3,000 samples of an upsampled copy by a 16 -> 80 channel
  convolution over 300;
- the head's 1x1 convolutions as matrix products over channels (:class:`PointwiseConv1d`);
- with ``compiled=True`` (``train.compile``), every other convolution as a height-1 conv2d
  (:class:`Conv1dAsConv2d`): the same in eager mode, but it lets ``torch.compile`` run the network
  in channels-last memory with ReLU and BatchNorm fused over it.
"""

from __future__ import annotations

from torch import nn

from sleep_kd.fast_training.as_conv2d import Conv1dAsConv2d
from sleep_kd.fast_training.pointwise import PointwiseConv1d
from sleep_kd.fast_training.upsampled import UpsampledConv1d
from sleep_kd.models.blocks import DecoderLevel
from sleep_kd.models.utime import UTime


def for_training(model: nn.Module, *, compiled: bool = False) -> nn.Module:
    """``model`` with its U-Time layers in the forms above; returns ``model`` (changed in place).

    Works on any network that contains U-Time decoder levels (``UTime``, ``ContextNet``'s
    per-epoch encoder). Idempotent. Parameters, buffers and state_dict keys are unchanged.
    ``compiled``: the model is about to be ``torch.compile``'d; its other convolutions become
    :class:`Conv1dAsConv2d`.
    """
    for level in model.modules():
        if isinstance(level, DecoderLevel) and not isinstance(level.reduce.conv, UpsampledConv1d):
            level.reduce.conv = UpsampledConv1d.taking_over(level.reduce.conv, scale=level.scale)
            level.upsample = nn.Identity()
    for net in model.modules():
        if isinstance(net, UTime):
            for name in ("dense", "classify"):
                if not isinstance(getattr(net, name), PointwiseConv1d):
                    setattr(net, name, PointwiseConv1d.taking_over(getattr(net, name)))
    if compiled:
        _convs_as_conv2d(model)
    return model


def _convs_as_conv2d(model: nn.Module) -> None:
    """Every plain ``nn.Conv1d`` child (not the forms above) replaced by :class:`Conv1dAsConv2d`."""
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if type(child) is nn.Conv1d and Conv1dAsConv2d.fits(child):
                setattr(parent, name, Conv1dAsConv2d.taking_over(child))


__all__ = ["Conv1dAsConv2d", "PointwiseConv1d", "UpsampledConv1d", "for_training"]
