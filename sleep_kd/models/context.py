"""Night context: the seed's U-Time scores each epoch, an epoch-sequence model reads T of them.

The per-epoch encoder is :class:`~sleep_kd.models.utime.UTime` exactly as the seed has it (same
submodules, same state_dict keys under ``encoder.``), run on the (B*T, 1, n_times) windows of a
(B, T, 1, n_times) batch. Each epoch's summary -- U-Time's own logits, the mean of its bottleneck
and the mean of its last decoder map -- goes to a sequence model over the T epochs, which gives
a correction to each epoch's logits: logits (B, T, n_classes) = U-Time's per-epoch logits + the
sequence model's output, whose head starts at zero. The encoder's feature taps stay per epoch,
(B*T, channels, length), so attention transfer compares student and teacher epoch by epoch as
without context.

Why these features: the logits keep U-Time's classify layer in the graph (every parameter gets a
gradient, so DDP needs no ``find_unused_parameters``), and the two means carry the slow evidence
(heart rate, its variability) that a per-epoch decision throws away. Why a correction with a zero
head: a new context model scores every epoch exactly as its encoder does, so a context run whose
encoder starts from a trained single-window checkpoint (``paths.encoder_init``) starts at that
checkpoint's scores and learns only what the neighbours add. From scratch, an ECG context model
sits at the class prior for its first ~30,000 windows with either form (docs/context.md, "The
recipe"); started from a single-window encoder it does not.

Sequence models (``sequence``): ``tcn``, residual dilated convolutions over epochs (Jones et al.
2024 use a 12-layer dilated temporal convolution over the night); ``gru``, a bidirectional GRU
(sleepecg); ``transformer``, a small encoder with learned positions. docs/context.md has the
measured comparison. No BatchNorm after the encoder: LayerNorm per epoch, so a batch's mix of
nights does not move the statistics the model is scored with.

``tcn_causal`` is the real-time student: the same convolutions padded on the left only, so in
eval mode epoch t's logits depend on epochs <= t alone (in train mode the encoder's BatchNorm
still normalises with the whole batch's statistics). Such a model (:func:`is_causal`) is scored
epoch by epoch as a live monitor would show it (:mod:`sleep_kd.evaluation.live`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from sleep_kd.choices import SEQUENCE_MODELS
from sleep_kd.errors import InputError
from sleep_kd.models.utime import UTime

CAUSAL_SEQUENCES = ("tcn_causal",)  # output at epoch t reads epochs <= t only
# Keys of a ContextNet's config that are not the per-epoch encoder's.
CONTEXT_KEYS = ("context_epochs", "sequence", "sequence_width", "sequence_layers", "sequence_kernel",
                "dropout", "encoder_name")
# Keys of the sequence model alone: a teacher may differ in them from its student (a bidirectional
# teacher of a causal student), since the terms compare per-epoch logits and encoder taps only.
SEQUENCE_MODEL_KEYS = ("sequence", "sequence_width", "sequence_layers", "sequence_kernel", "dropout")


class DilatedTCN(nn.Module):
    """Residual blocks of non-causal dilated 1-D convolutions over epochs: (B, width, T) -> same.

    Dilations 1, 2, 4, ... per layer; receptive field ``1 + (kernel - 1) * (2^layers - 1)`` epochs.
    """

    def __init__(self, width: int, *, layers: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Conv1d(width, width, kernel, dilation=2**i, padding=(kernel - 1) // 2 * 2**i) for i in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(layers))
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.blocks, self.norms):
            update = norm(conv(h).transpose(1, 2)).transpose(1, 2)
            h = h + self.drop(torch.relu(update))
        return h


class CausalTCN(nn.Module):
    """Residual blocks of causal dilated 1-D convolutions over epochs: (B, width, T) -> same.

    :class:`DilatedTCN` with each convolution padded on the left only (zeros before the first
    epoch, as WaveNet's), so output epoch t reads epochs ``t - (kernel - 1) * (2^layers - 1)`` to t.
    LayerNorm is per epoch, so nothing else mixes epochs.
    """

    def __init__(self, width: int, *, layers: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(nn.Conv1d(width, width, kernel, dilation=2**i) for i in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(layers))
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.blocks, self.norms):
            past = nn.functional.pad(h, ((conv.kernel_size[0] - 1) * conv.dilation[0], 0))
            update = norm(conv(past).transpose(1, 2)).transpose(1, 2)
            h = h + self.drop(torch.relu(update))
        return h


class BiGRU(nn.Module):
    """Bidirectional GRU over epochs: (B, width, T) -> (B, width, T) (width/2 per direction)."""

    def __init__(self, width: int, *, layers: int, dropout: float) -> None:
        super().__init__()
        if width % 2:
            raise InputError(f"model option 'sequence_width' must be even for a bidirectional GRU, got {width}")
        self.gru = nn.GRU(width, width // 2, num_layers=layers, batch_first=True, bidirectional=True,
                          dropout=dropout if layers > 1 else 0.0)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(h.transpose(1, 2))
        return h + out.transpose(1, 2)


class SmallTransformer(nn.Module):
    """A small transformer encoder over epochs with learned positions: (B, width, T) -> same."""

    def __init__(self, width: int, *, layers: int, context_epochs: int, dropout: float) -> None:
        super().__init__()
        heads = 4 if width % 4 == 0 else 1
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=2 * width, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.position = nn.Parameter(torch.zeros(1, context_epochs, width))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.encoder(h.transpose(1, 2) + self.position).transpose(1, 2)


class ContextNet(nn.Module):
    """U-Time per epoch, then a sequence model: (B, T, in_channels, n_times) -> logits (B, T, n_classes).

    Parameters
    ----------
    name : str
        Preset name recorded in :attr:`config`.
    encoder_name : str
        The per-epoch encoder's preset name (its :attr:`UTime.config` ``name``), so a single-window
        checkpoint of that preset is recognised as the same encoder.
    context_epochs : int
        T, epochs per input sequence (20 = 10 minutes of 30-s epochs).
    sequence : {"tcn", "gru", "transformer", "tcn_causal"}
        ``tcn_causal`` reads past epochs only (:attr:`causal`).
    sequence_width, sequence_layers, sequence_kernel : int
        Width and depth of the sequence model; the kernel (odd, in epochs) for the TCNs only.
    dropout : float
        Dropout in the sequence model.
    **encoder_options
        :class:`UTime` options (``n_classes``, ``sfreq``, ``window_s``, ``filters``, ...).
    """

    def __init__(self, *, name: str, encoder_name: str, context_epochs: int, sequence: str = "tcn",
                 sequence_width: int = 64, sequence_layers: int = 4, sequence_kernel: int = 3,
                 dropout: float = 0.1, **encoder_options: Any) -> None:
        super().__init__()
        for key, value in (("context_epochs", context_epochs), ("sequence_width", sequence_width),
                           ("sequence_layers", sequence_layers), ("sequence_kernel", sequence_kernel)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InputError(f"model option {key!r} must be a positive integer, got {value!r}")
        if sequence not in SEQUENCE_MODELS:
            raise InputError(f"model option 'sequence' must be one of {', '.join(SEQUENCE_MODELS)}, got {sequence!r}")
        if sequence_kernel % 2 == 0:
            raise InputError(f"model option 'sequence_kernel' must be odd, got {sequence_kernel}")
        if not 0.0 <= float(dropout) < 1.0:
            raise InputError(f"model option 'dropout' must lie in [0, 1), got {dropout!r}")
        self.encoder = UTime(name=encoder_name, **encoder_options)
        self.n_classes, self.in_channels = self.encoder.n_classes, self.encoder.in_channels
        self.n_times, self.sfreq = self.encoder.n_times, self.encoder.sfreq
        self.context_epochs = context_epochs
        self.causal = sequence in CAUSAL_SEQUENCES
        features = self.n_classes + encoder_options["bottleneck_filters"] + encoder_options["filters"][0]
        self.project = nn.Sequential(nn.Linear(features, sequence_width), nn.LayerNorm(sequence_width))
        if sequence in ("tcn", "tcn_causal"):
            tcn = CausalTCN if sequence == "tcn_causal" else DilatedTCN
            self.sequence = tcn(sequence_width, layers=sequence_layers, kernel=sequence_kernel, dropout=dropout)
        elif sequence == "gru":
            self.sequence = BiGRU(sequence_width, layers=sequence_layers, dropout=dropout)
        else:
            self.sequence = SmallTransformer(sequence_width, layers=sequence_layers,
                                             context_epochs=context_epochs, dropout=dropout)
        # The sequence model corrects the encoder's own per-epoch logits; a zero head makes a new
        # context model score each epoch exactly as its encoder does (see the module docstring).
        self.head = nn.Linear(sequence_width, self.n_classes)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.config: dict[str, Any] = {
            **self.encoder.config, "name": str(name), "encoder_name": str(encoder_name),
            "context_epochs": context_epochs, "sequence": sequence, "sequence_width": sequence_width,
            "sequence_layers": sequence_layers, "sequence_kernel": sequence_kernel, "dropout": float(dropout),
        }

    def check_input(self, x: torch.Tensor) -> None:
        """Refuse an input that is not (B, context_epochs, in_channels, n_times)."""
        expected = (self.context_epochs, self.in_channels, self.n_times)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise InputError(
                f"model {self.config['name']!r} expects input (batch, epochs, channels, samples) with "
                f"(epochs, channels, samples) = {expected}, got shape {tuple(x.shape)}")

    def forward(self, x: torch.Tensor, *, return_taps: bool = False):
        """Score sequences of epochs.

        Parameters
        ----------
        x : Tensor (B, T, in_channels, n_times)

        Returns
        -------
        logits : Tensor (B, T, n_classes)
        taps : dict[str, list[Tensor]], only with ``return_taps``
            The encoder's taps per epoch, each (B*T, channels, length), epochs in row-major order
            (row ``b * T + t`` is epoch t of sequence b).
        """
        self.check_input(x)
        batch, epochs = x.shape[:2]
        epoch_logits, features, taps = self.summarise(x.flatten(0, 1))
        logits = self.contextualise(epoch_logits.view(batch, epochs, -1), features.view(batch, epochs, -1))
        return (logits, taps) if return_taps else logits

    def summarise(self, windows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict]:
        """The per-epoch half: windows (N, in_channels, n_times) -> the encoder's logits (N, n_classes),
        each epoch's projected summary (N, sequence_width) and the encoder's taps. Row i reads window i only
        (in eval mode)."""
        epoch_logits, taps = self.encoder(windows, return_taps=True)
        summary = torch.cat([epoch_logits, taps["bottleneck"][-1].mean(dim=-1), taps["final"][-1].mean(dim=-1)], 1)
        return epoch_logits, self.project(summary), taps

    def contextualise(self, epoch_logits: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """The sequence half: the (B, T, n_classes) logits and (B, T, sequence_width) summaries of
        :meth:`summarise` -> logits (B, T, n_classes)."""
        h = self.sequence(features.transpose(1, 2))
        return epoch_logits + self.head(h.transpose(1, 2))


def encoder_config(config: dict[str, Any]) -> dict[str, Any]:
    """The per-epoch encoder's config inside a ContextNet config (what a single-window checkpoint has)."""
    inner = {k: v for k, v in config.items() if k not in CONTEXT_KEYS}
    inner["name"] = config["encoder_name"]
    return inner


def context_epochs_of(model: nn.Module) -> int:
    """T of a context model; 0 for a single-window network."""
    return int(getattr(model, "context_epochs", 0) or 0)


def is_causal(model: nn.Module) -> bool:
    """Whether a context model's logits at epoch t read epochs <= t only (``sequence: tcn_causal``)."""
    return bool(getattr(model, "causal", False))
