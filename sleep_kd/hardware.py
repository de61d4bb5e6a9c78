"""What this machine runs natively: the one place that decides "native bf16", and the CPU's name.

Training (``train.mixed_precision: auto``), scoring (``evaluate.py --precision auto``) and the
benchmarks all ask :func:`native_bf16`. bf16 autocast only pays off where the hardware has bf16
arithmetic: CUDA GPUs of compute capability 8.0 and later, and CPUs with AVX512-BF16 or AMX,
where oneDNN runs bf16 kernels. On an AVX2-only CPU oneDNN emulates bf16 and a training step is
several times slower than in fp32 (see ``bench/README.md``), so ``auto`` picks fp32 there.

``SLEEP_KD_NATIVE_BF16=0`` (or ``1``) overrides the CPU check, to try the fallback on a machine
that has bf16, or to force bf16 where the check is wrong.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from sleep_kd.errors import InputError

MIXED_PRECISIONS = ("auto", "no", "fp16", "bf16")
# CPU flags that decide which precision is fast, printed beside every benchmark figure.
SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile")
FORCE_ENV = "SLEEP_KD_NATIVE_BF16"


def native_bf16(*, cuda: bool) -> bool:
    """True where bf16 autocast runs on native bf16 arithmetic (so it beats fp32).

    ``cuda``: whether the computation runs on a CUDA device (then the GPU decides), else the CPU.
    """
    import torch  # here, so the CLIs' --help and config checks stay fast

    if cuda:
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False))
    forced = os.environ.get(FORCE_ENV)
    if forced in ("0", "1"):
        return forced == "1"
    return cpu_runs_bf16_natively()


def cpu_runs_bf16_natively() -> bool:
    """oneDNN's own answer: AVX512-BF16 (or AMX) present, so its bf16 kernels are not emulated."""
    import torch

    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve_mixed_precision(requested: str, *, cuda: bool) -> tuple[str, str]:
    """The autocast precision a run uses (``no``, ``bf16`` or ``fp16``) and why, for the start line.

    ``auto``: bf16 where :func:`native_bf16` says so, else fp32 (``no``); never fp16, which needs
    a CUDA GPU and a gradient scaler and is only chosen when asked for.
    """
    if requested not in MIXED_PRECISIONS:
        raise InputError(f"mixed precision must be one of {', '.join(MIXED_PRECISIONS)}, got {requested!r}")
    device = "this CUDA GPU" if cuda else "this CPU"
    if requested == "fp16" and not cuda:
        raise InputError("train.mixed_precision fp16 needs a CUDA GPU (it relies on grad scaling); use bf16 or auto on the CPU")
    if requested != "auto":
        if requested == "bf16" and not native_bf16(cuda=cuda):
            return "bf16", f"bf16 as asked, although {device} has no native bf16 (emulated: expect it slower than fp32)"
        return requested, f"{'fp32' if requested == 'no' else requested} as asked"
    if native_bf16(cuda=cuda):
        return "bf16", f"bf16 (auto: {device} runs bf16 natively)"
    return "no", f"fp32 (auto: {device} has no native bf16, where bf16 would be emulated and slower)"


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (or the platform's answer)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_speed_flags() -> list[str]:
    """Which of :data:`SPEED_FLAGS` this CPU reports (Linux; empty elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                present = set(line.split(":", 1)[1].split())
                return [flag for flag in SPEED_FLAGS if flag in present]
    except OSError:
        pass
    return []
