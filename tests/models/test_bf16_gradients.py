"""Why ``mixed_precision: auto`` trains in fp32: bf16 autocast bends U-Time's training gradient.

The measured reason behind :data:`sleep_kd.hardware.AUTO_TRAINS_IN_BF16` (docs/precision.md), kept
as a test: on ECG-like windows, one training-mode step of ``utime_small`` in fp32 gives the float64
gradient to float rounding, while bf16 autocast gives one that points elsewhere. If a later PyTorch
(or another network) makes the bf16 gradient agree, this test fails, and the choice in
``sleep_kd/hardware.py`` should be measured again (``python -m bench.precision``).
"""

import copy

import torch
import torch.nn.functional as F

from sleep_kd.hardware import AUTO_TRAINS_IN_BF16
from sleep_kd.models import create_model


def ecg_like_windows(size: int = 16, n_times: int = 3000, sfreq: float = 100.0) -> torch.Tensor:
    """(size, 1, n_times) narrow beats at 48-78 per minute plus noise, min-max scaled per window as in training."""
    gen = torch.Generator().manual_seed(1)
    seconds = torch.arange(n_times) / sfreq
    rate_hz = torch.rand(size, 1, 1, generator=gen) * 0.5 + 0.8
    beats = torch.sin(2 * torch.pi * rate_hz * seconds).clamp(min=0) ** 63
    x = beats + 0.05 * torch.randn(size, 1, n_times, generator=gen)
    low, high = x.amin(-1, keepdim=True), x.amax(-1, keepdim=True)
    return (x - low) / (high - low)


def training_gradient(model: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor, *, mode: str) -> torch.Tensor:
    """All parameters' gradients (float64, flat) of one training-mode cross-entropy step in ``mode``."""
    model = copy.deepcopy(model).train()
    if mode == "float64":
        model, x = model.double(), x.double()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "bf16"):
        logits = model(x)
    F.cross_entropy(logits.double(), labels).backward()
    return torch.cat([p.grad.double().flatten() for p in model.parameters()])


def test_bf16_autocast_bends_the_training_gradient_where_fp32_does_not():
    torch.manual_seed(0)
    model = create_model("utime_small", n_classes=4)
    x, labels = ecg_like_windows(), torch.tensor([0, 1, 2, 3] * 4)
    exact = training_gradient(model, x, labels, mode="float64")
    fp32 = F.cosine_similarity(training_gradient(model, x, labels, mode="fp32"), exact, dim=0).item()
    bf16 = F.cosine_similarity(training_gradient(model, x, labels, mode="bf16"), exact, dim=0).item()
    assert fp32 > 0.9999
    assert bf16 < 0.9, f"bf16's gradient now agrees with float64 (cosine {bf16:.4f}): measure AUTO_TRAINS_IN_BF16 again"
    assert AUTO_TRAINS_IN_BF16 is False
