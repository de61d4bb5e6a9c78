"""Keep freed memory in the process: glibc's malloc tuned for tensors that come and go each step.

A forward pass allocates and frees feature maps of a few MB to tens of MB. With glibc's default
(adaptive) thresholds, many of those blocks are mapped fresh from the kernel and handed back
when freed, so every pass pays one page fault per 4 KiB it touches. On the 2-core VM this was
1.15 million faults to score 7 nights and made fp32 scoring 1.47x and an fp32 training step
1.28x slower (docs/speed.md). Fixing both thresholds keeps freed blocks for reuse, as
PyTorch's CUDA caching allocator does on the GPU: peak memory is unchanged, but the process does
not shrink back after a peak of up to ``TRIM_THRESHOLD``.

``train_loop.py``, ``evaluate.py`` and the benchmarks call :func:`keep_freed_memory` once at
start. ``SLEEP_KD_MALLOC=system`` leaves glibc's defaults alone. Other C libraries (musl, macOS)
are left alone too.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc <malloc.h>: free memory at the heap's top kept before returning it
M_MMAP_THRESHOLD = -3  # glibc <malloc.h>: requests at least this big get their own mapping
MMAP_THRESHOLDS = (256 << 20, 32 << 20)  # bytes; the first glibc accepts (older ones cap it at 32 MiB)
TRIM_THRESHOLD = 1 << 30  # bytes
OPT_OUT = "SLEEP_KD_MALLOC"


def keep_freed_memory() -> bool:
    """Fix glibc's mmap and trim thresholds; True when they were set, False when left alone."""
    if os.environ.get(OPT_OUT, "").strip().lower() == "system" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 -- present only in glibc
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # Both or neither: either threshold alone turns off the other's adaptation and faults more.
    if not any(mallopt(M_MMAP_THRESHOLD, size) for size in MMAP_THRESHOLDS):
        return False
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
