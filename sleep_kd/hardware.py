"""What this machine runs natively: the one place that decides "native bf16", and the CPU's name.

Training (``train.mixed_precision``, settled once when the run's config is resolved:
``sleep_kd.engine.config.settle_precision`` calls :func:`resolve_mixed_precision`), scoring
(``evaluate.py --precision auto``) and the benchmarks all ask :func:`native_bf16`; ``auto``
training stays in fp32 even where it says yes (:data:`AUTO_TRAINS_IN_BF16`). bf16 autocast only pays off in speed where the hardware has bf16
arithmetic: CUDA GPUs of compute capability 8.0 and later, and CPUs with AVX512-BF16 or AMX,
where oneDNN runs bf16 kernels. Elsewhere oneDNN emulates bf16 and a training step is slower
than in fp32 (see ``docs/gpus.md``): 0.07-0.2x on AVX2-only CPUs, 0.76x on an AVX-512 Xeon
without AVX512-BF16, so ``auto`` picks fp32 there. oneDNN's own check
(``torch.ops.mkldnn._is_mkldnn_bf16_supported``) is not enough: it says yes on any AVX-512 CPU
(AVX512BW/VL/DQ), where it can emulate bf16, so the CPU's flags must name bf16 arithmetic too.

``SLEEP_KD_NATIVE_BF16=0`` (or ``1``) overrides the CPU check, to try the fallback on a machine
that has bf16, or to force bf16 where the check is wrong.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from sleep_kd.choices import MIXED_PRECISIONS
from sleep_kd.errors import InputError

# CPU flags that decide which precision is fast, printed beside every benchmark figure.
SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile")
FORCE_ENV = "SLEEP_KD_NATIVE_BF16"


def trains_on_cuda(*, cpu: bool) -> bool:
    """Whether a run trains on a CUDA GPU: one is present and ``train.cpu`` (``cpu``) does not forbid it."""
    import torch  # here, so the CLIs' --help stays fast

    return not cpu and torch.cuda.is_available()


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


# oneDNN ISAs (ONEDNN_MAX_CPU_ISA) below AVX512_CORE_BF16: capped at one of them, oneDNN emulates bf16.
ISAS_WITHOUT_BF16 = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI")
X86_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of bf16 arithmetic on x86


def cpu_runs_bf16_natively() -> bool:
    """True where oneDNN runs bf16 kernels and the CPU has bf16 arithmetic (so they are not emulated).

    On x86 the CPU must report AVX512-BF16 or AMX-BF16 and oneDNN must not be capped below
    AVX512_CORE_BF16 (``ONEDNN_MAX_CPU_ISA``, how the emulated case is imitated on a bf16 CPU).
    Elsewhere (aarch64, where torch's check is the CPU's own bf16 feature) and where the flags
    cannot be read, oneDNN's answer stands.
    """
    if not onednn_has_bf16():
        return False
    flags = cpu_flags()
    if platform.machine().lower() not in ("x86_64", "amd64") or flags is None:
        return True
    return bool(set(X86_BF16_FLAGS) & flags) and not onednn_capped_below_bf16()


def onednn_has_bf16() -> bool:
    """oneDNN's check: bf16 kernels available, natively or emulated (yes on any AVX-512 CPU)."""
    import torch

    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def onednn_capped_below_bf16() -> bool:
    """Whether ``ONEDNN_MAX_CPU_ISA`` (or its old name ``DNNL_MAX_CPU_ISA``) names an ISA without bf16."""
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or ""
    return cap.strip().upper() in ISAS_WITHOUT_BF16


# Why ``auto`` trains in fp32 even where bf16 is native (docs/precision.md has the figures): bf16
# autocast rounds every convolution's input and output to 8 significant bits, and U-Time's 25
# Conv -> ReLU -> BatchNorm blocks in training mode grow that error about 1.2x per block (0.3 % at the
# first convolution, 15 % at the head; 5 % of the ReLU gates flip), so a bf16 step's gradient points
# elsewhere (cosine 0.63 with the exact one at initialisation, 0.24 at the first level). The EEG
# teacher trains through it; the ECG students, whose evidence is faint, lose kappa. No part of the
# network can be kept in fp32 to stop it (every rounded convolution adds its share), so the choice
# is made here: bf16 only when asked.
AUTO_TRAINS_IN_BF16 = False


def resolve_mixed_precision(requested: str, *, cuda: bool) -> tuple[str, str]:
    """The autocast precision a run trains in (``no``, ``bf16`` or ``fp16``) and why, for the start line.

    ``auto``: fp32 (``no``) on every device, where bf16 is native too (see
    :data:`AUTO_TRAINS_IN_BF16`); on CUDA fp32 runs its matrix products in TF32. Never fp16, which
    needs a CUDA GPU and a gradient scaler and is only chosen when asked for. ``bf16`` asked for
    is kept, and the line says what it costs.
    """
    if requested not in MIXED_PRECISIONS:
        raise InputError(f"mixed precision must be one of {', '.join(MIXED_PRECISIONS)}, got {requested!r}")
    device = "this CUDA GPU" if cuda else "this CPU"
    if requested == "fp16" and not cuda:
        raise InputError("train.mixed_precision fp16 needs a CUDA GPU (it relies on grad scaling); use bf16 or auto on the CPU")
    native = native_bf16(cuda=cuda)
    if requested == "bf16":
        speed = "runs bf16 natively" if native else "has no native bf16 (emulated: expect it slower than fp32)"
        return "bf16", (f"bf16 as asked ({device} {speed}); bf16 trains the ECG students less accurately "
                        "than fp32 (docs/precision.md)")
    if requested != "auto":
        return requested, f"{'fp32' if requested == 'no' else requested} as asked"
    if native and AUTO_TRAINS_IN_BF16:
        return "bf16", f"bf16 (auto: {device} runs bf16 natively)"
    if native:
        return "no", (f"fp32 (auto: {device} runs bf16 natively, but bf16 trains the ECG students less "
                      "accurately than fp32; docs/precision.md)")
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
    present = cpu_flags() or set()
    return [flag for flag in SPEED_FLAGS if flag in present]


def cpu_flags() -> set[str] | None:
    """The first CPU's feature flags from /proc/cpuinfo (x86 ``flags``, aarch64 ``Features``), or None."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None
