"""Precision and batch size for scoring: the fastest defaults that keep a checkpoint's numbers."""

from __future__ import annotations

from sleep_kd.errors import InputError
from sleep_kd.hardware import MIXED_PRECISIONS, native_bf16

PRECISIONS = MIXED_PRECISIONS  # the same four words as train.mixed_precision
DEFAULT_BATCH = 128  # the fastest batch for scoring on a 2-core CPU, fp32 and bf16 (docs/speed.md)


def trained_precision(checkpoint_config: dict) -> str:
    """The ``train.mixed_precision`` a checkpoint was trained (and validated) with; ``no`` if unknown."""
    run = checkpoint_config.get("config")
    train = run.get("train") if isinstance(run, dict) else None
    value = train.get("mixed_precision", "no") if isinstance(train, dict) else "no"
    return value if value in PRECISIONS and value != "auto" else "no"


def scoring_precision(requested: str, trained: str, *, cuda: bool) -> str:
    """Autocast precision to score with: ``no``, ``bf16`` or ``fp16``.

    ``auto`` scores as the checkpoint was validated in training (``trained``, see
    :func:`trained_precision`), falling back to fp32 where that precision is not native: fp16 off
    CUDA, bf16 on a CPU without bf16 instructions (where it is emulated and slower than fp32).
    """
    if requested not in PRECISIONS:
        raise InputError(f"--precision must be one of {', '.join(PRECISIONS)}, got '{requested}'")
    if requested == "fp16" and not cuda:
        raise InputError("--precision fp16 needs a CUDA GPU; use bf16 or no on the CPU")
    if requested != "auto":
        return requested
    if trained == "fp16" and not cuda:
        return "no"
    if trained == "bf16" and not native_bf16(cuda=cuda):
        return "no"
    return trained
