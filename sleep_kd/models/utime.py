"""U-Time for one 30 s window of one signal (Perslev et al., NeurIPS 2019), as used by the seed.

The network is a 1-D U-Net: an encoder of convolution blocks and max-pooling, a bottleneck, a
decoder of nearest upsampling and skip concatenations back to the input length, and a head that
scores every sample, averages the scores over the window and mixes them into one logit per stage.
This module says what the network is, in plain ``torch.nn`` layers. Faster forms of the same
network are built from it, never mixed into it: ``sleep_kd.fast.for_scoring`` (a frozen copy
for scoring) and ``sleep_kd.fast.for_training`` (equivalent layers swapped in for training). They
read the network's parts by name; :data:`FAST_FORM_CONTRACT` lists every name they rely on.

References
----------
M. Perslev, M. H. Jensen, S. Darkner, P. J. Jennum, C. Igel. U-Time: A fully convolutional
network for time series segmentation applied to sleep staging. NeurIPS 2019.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torch import nn

from sleep_kd.choices import TAP_GROUPS
from sleep_kd.errors import InputError
from sleep_kd.models.blocks import DecoderLevel, EncoderLevel, double_block

# The attributes the faster forms (sleep_kd.fast) read, by class: renaming, removing or re-typing
# one of them breaks for_scoring or for_training. tests/models/test_utime.py checks each is there
# and of the kind below. What they also rely on: a ConvBlock is Conv1d -> ReLU -> BatchNorm1d with
# zero padding that keeps the length; a DecoderLevel concatenates [skip, upsampled] in that order;
# the head is tanh of ``dense``, the mean over the window, then ``classify``.
FAST_FORM_CONTRACT: dict[str, tuple[str, ...]] = {
    # config, n_times, in_channels, n_classes: copied; encoder: ModuleList of EncoderLevel;
    # bottleneck: Sequential of ConvBlock; decoder: ModuleList of DecoderLevel (deepest first);
    # dense, classify: 1x1 Conv1d.
    "UTime": ("config", "n_times", "in_channels", "n_classes", "encoder", "bottleneck", "decoder", "dense",
              "classify"),
    "EncoderLevel": ("blocks", "pool_size"),  # blocks: Sequential of ConvBlock; pool_size: int
    "DecoderLevel": ("scale", "upsample", "reduce", "blocks"),  # reduce: ConvBlock; blocks: Sequential of ConvBlock
    "ConvBlock": ("conv", "norm"),  # conv: Conv1d; norm: BatchNorm1d
}


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InputError(f"model option {name!r} must be a positive integer, got {value!r}")
    return value


def _positive_ints(name: str, values: Any) -> list[int]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise InputError(f"model option {name!r} must be a non-empty list of positive integers, got {values!r}")
    return [_positive_int(name, v) for v in values]


def window_samples(sfreq: float, window_s: float) -> int:
    """Samples per window, ``sfreq * window_s``; refuses a product that is not a whole number."""
    if not sfreq > 0 or not window_s > 0:
        raise InputError(f"model options 'sfreq' and 'window_s' must be positive, got {sfreq!r} Hz and {window_s!r} s")
    n_times = round(sfreq * window_s)
    if abs(sfreq * window_s - n_times) > 1e-6:
        raise InputError(f"model window {window_s} s at {sfreq} Hz is {sfreq * window_s} samples; expected a whole number")
    return n_times


def _check_structure(*, n_times: int, filters: list[int], pool_sizes: list[int], kernel_size: int) -> None:
    if len(filters) != len(pool_sizes):
        raise InputError(
            f"model options 'filters' ({len(filters)} levels) and 'pool_sizes' ({len(pool_sizes)}) "
            "must have the same length"
        )
    if kernel_size % 2 == 0:
        raise InputError(f"model option 'kernel_size' must be odd to keep the length with zero padding, got {kernel_size}")
    product = math.prod(pool_sizes)
    if n_times % product:
        raise InputError(
            f"model 'pool_sizes' {pool_sizes} pool by {product} in all, which does not divide "
            f"the window's {n_times} samples"
        )


class UTime(nn.Module):
    """U-Time network: (B, in_channels, n_times) -> logits (B, n_classes).

    The forward, with ``L0 = n_times`` and ``L_i = L_{i-1} / pool_sizes[i-1]``:

    1. encoder level i: two blocks (Conv1d -> ReLU -> BatchNorm1d), kept as the skip
       (B, filters[i], L_i), then MaxPool1d -> (B, filters[i], L_{i+1});
    2. bottleneck: two blocks -> (B, bottleneck_filters, L_n);
    3. decoder level i (deepest first): nearest upsampling by the level's pool size, one block,
       concatenation [skip, upsampled] on channels, two blocks -> (B, filters[i], L_i);
    4. head: a 1x1 Conv1d to n_classes and tanh scores every sample (B, n_classes, n_times), the
       mean over the window (B, n_classes, 1), a 1x1 Conv1d mixes it into the logits (B, n_classes).

    Parameters
    ----------
    The paper's value (Perslev et al. 2019, Sec. 3, 35 epochs of 30 s EEG at 100 Hz) is given
    in brackets; the presets (``sleep_kd.models.presets``) hold the seed's.

    name : str
        Preset name recorded in :attr:`config`.
    n_classes : int
        Sleep stages scored [5].
    in_channels : int
        Input signals (1: one EEG derivation or one ECG lead) [1].
    sfreq : float
        Sampling rate of the input in Hz [100].
    window_s : float
        Window length in seconds; ``n_times = sfreq * window_s`` samples [35 x 30 s: the paper
        segments a sequence of epochs; here one window gives one logit].
    filters : list of int
        Feature maps of each encoder level; the decoder mirrors them [16, doubling per level].
    pool_sizes : list of int
        Max-pool size after each encoder level (the decoder upsamples by them in reverse);
        their product must divide ``n_times`` [10, 8, 6, 4].
    kernel_size : int
        Odd convolution kernel size in samples, every block except the 1x1 head [5].
    encoder_dilation, bottleneck_dilation, decoder_dilation : int
        Kernel dilation in each part [9 in the encoder and bottleneck].
    bottleneck_filters : int
        Feature maps of the bottleneck [twice the last level's].
    """

    def __init__(
        self,
        *,
        name: str = "utime",
        n_classes: int,
        in_channels: int = 1,
        sfreq: float,
        window_s: float,
        filters: Sequence[int],
        pool_sizes: Sequence[int],
        kernel_size: int = 5,
        encoder_dilation: int = 2,
        bottleneck_filters: int,
        bottleneck_dilation: int = 1,
        decoder_dilation: int = 1,
    ) -> None:
        super().__init__()
        for key, value in (("n_classes", n_classes), ("in_channels", in_channels), ("kernel_size", kernel_size),
                           ("encoder_dilation", encoder_dilation), ("bottleneck_filters", bottleneck_filters),
                           ("bottleneck_dilation", bottleneck_dilation), ("decoder_dilation", decoder_dilation)):
            _positive_int(key, value)
        filters, pool_sizes = _positive_ints("filters", filters), _positive_ints("pool_sizes", pool_sizes)
        self.n_times = window_samples(sfreq, window_s)
        _check_structure(n_times=self.n_times, filters=filters, pool_sizes=pool_sizes, kernel_size=kernel_size)
        self.sfreq = float(sfreq)
        self.n_classes = n_classes
        self.in_channels = in_channels
        self.config: dict[str, Any] = {
            "name": str(name), "n_classes": n_classes, "in_channels": in_channels,
            "sfreq": float(sfreq), "window_s": float(window_s), "filters": filters, "pool_sizes": pool_sizes,
            "kernel_size": kernel_size, "encoder_dilation": encoder_dilation,
            "bottleneck_filters": bottleneck_filters, "bottleneck_dilation": bottleneck_dilation,
            "decoder_dilation": decoder_dilation,
        }
        widths = [in_channels, *filters]
        self.encoder = nn.ModuleList(
            EncoderLevel(widths[i], widths[i + 1], kernel_size=kernel_size, dilation=encoder_dilation,
                         pool_size=pool_sizes[i])
            for i in range(len(filters))
        )
        self.bottleneck = double_block(filters[-1], bottleneck_filters, kernel_size=kernel_size,
                                       dilation=bottleneck_dilation)
        ups = [bottleneck_filters, *reversed(filters)]
        self.decoder = nn.ModuleList(
            DecoderLevel(ups[i], ups[i + 1], kernel_size=kernel_size, dilation=decoder_dilation,
                         scale=pool_sizes[-1 - i])
            for i in range(len(filters))
        )
        self.dense = nn.Conv1d(filters[0], n_classes, kernel_size=1)
        self.classify = nn.Conv1d(n_classes, n_classes, kernel_size=1)
        for conv in (self.dense, self.classify):
            nn.init.xavier_uniform_(conv.weight)
            nn.init.zeros_(conv.bias)

    def check_input(self, x: torch.Tensor) -> None:
        """Refuse an input that is not (B, in_channels, n_times)."""
        expected = (self.in_channels, self.n_times)
        if x.ndim != 3 or tuple(x.shape[1:]) != expected:
            raise InputError(
                f"model {self.config['name']!r} expects input (batch, channels, samples) with "
                f"(channels, samples) = {expected}, got shape {tuple(x.shape)}"
            )

    def forward(self, x: torch.Tensor, *, return_taps: bool = False):
        """Score windows.

        Parameters
        ----------
        x : Tensor (B, in_channels, n_times)
        return_taps : bool
            Also return the intermediate feature maps of this pass (for attention transfer).

        Returns
        -------
        logits : Tensor (B, n_classes)
        taps : dict[str, list[Tensor]], only with ``return_taps``
            ``encoder`` (each level after pooling), ``bottleneck`` ([(B, bottleneck_filters, L)]),
            ``decoder`` (each level's output), ``final`` ([(B, filters[0], n_times)]) and
            ``head`` ([tanh scores (B, n_classes, n_times)]).
        """
        self.check_input(x)
        taps: dict[str, list[torch.Tensor]] | None = {g: [] for g in TAP_GROUPS} if return_taps else None
        skips = []
        for level in self.encoder:
            skip, x = level(x)
            skips.append(skip)
            if taps is not None:
                taps["encoder"].append(x)
        x = self.bottleneck(x)
        if taps is not None:
            taps["bottleneck"].append(x)
        for level, skip in zip(self.decoder, reversed(skips)):
            x = level(x, skip)
            if taps is not None:
                taps["decoder"].append(x)
        scores = torch.tanh(self.dense(x))
        logits = self.classify(scores.mean(dim=-1, keepdim=True)).flatten(1)
        if taps is None:
            return logits
        taps["final"].append(x)
        taps["head"].append(scores)
        return logits, taps

