"""Shared helpers of the benchmarks: paired timing, the bare training step, cohorts, results.

The machine the benchmarks run on is shared and noisy, so no absolute time is a figure: every
figure is a ratio of two sides timed in the same run, interleaved round by round (A, B, A, B, ...),
and the ratio reported is the median of the per-round ratios (a load spike hits one round, not
one side).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Mapping

import torch

from sleep_kd.allocator import keep_freed_memory
from sleep_kd.studies.common import machine as machine_without_malloc

BENCH_DIR = Path(__file__).resolve().parent
# Smoke tests point this elsewhere so tiny runs do not pollute the real results.
RESULTS = Path(os.environ.get("SLEEP_KD_BENCH_RESULTS", BENCH_DIR / "results.jsonl"))
ROOT = BENCH_DIR.parent

# The benchmarks run in the process setup of train_loop.py and evaluate.py (SLEEP_KD_MALLOC=system
# measures glibc's defaults instead).
MALLOC_KEPT = keep_freed_memory()


def machine() -> dict:
    """CPU model and the flags that decide its speed, cores, torch, threads: every result line's context."""
    return {**machine_without_malloc(), "malloc": "kept" if MALLOC_KEPT else "system"}


def timed(fn: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(sides: Mapping[str, Callable[[], object]], *, rounds: int, warmup: int = 1) -> dict[str, list[float]]:
    """Seconds per call of each side, timed round-robin: ``{side: [s_round0, s_round1, ...]}``."""
    for _ in range(warmup):
        for fn in sides.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, fn in sides.items():
            times[name].append(timed(fn))
    return times


def paired_ratio(numerator: list[float], denominator: list[float]) -> float:
    """Median over rounds of numerator/denominator (both lists of seconds from :func:`interleaved`)."""
    return statistics.median(a / b for a, b in zip(numerator, denominator))


def median(values: list[float]) -> float:
    return statistics.median(values)


def record(name: str, figures: dict, *, quick: bool) -> dict:
    """Print the result line and append it to ``bench/results.jsonl``."""
    line = {"bench": name, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "quick": quick, **machine(), **figures}
    text = json.dumps(line, sort_keys=False, default=float)
    print(text, flush=True)
    with RESULTS.open("a") as handle:
        handle.write(text + "\n")
    return line


def matmul_flops_per_s(*, n: int = 1024, repeats: int = 5, dtype=torch.float32) -> float:
    """Achieved FLOP/s of an (n x n) @ (n x n) matmul: the compute limit the other figures divide by."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    seconds = median([timed(lambda: a @ b) for _ in range(repeats)])
    return 2.0 * n ** 3 / seconds


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of one call of ``fn`` (forward, backward, whatever it runs), by FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


class BareStep:
    """Forward, cross-entropy, backward and Adam of one network on a batch already in memory.

    The reference the real loop is measured against: no loading, no logging, no checks. ``fast``
    (the default, as the trainer) runs the networks in ``sleep_kd.fast``'s training forms. With a
    ``teacher`` (and ``taps``), the frozen teacher's forward runs too, as in the KD strategies.
    A context model (``context_small``) gets ``batch_size // T`` sequences of T epochs, as the
    trainer batches them (about ``batch_size`` windows a step either way). ``precision``: ``no``
    (fp32), ``bf16`` (autocast) or ``fp16`` (autocast with a gradient scaler, as Accelerate runs it;
    CUDA only). ``device``: where the networks, the batch and the step live.
    """

    def __init__(self, model_name: str = "utime_small", *, batch_size: int, precision: str = "no",
                 n_classes: int = 4, teacher: bool = False, taps: bool = False, seed: int = 0,
                 fast: bool = True, compiled: bool = False, device: str = "cpu") -> None:
        from sleep_kd.fast import for_training
        from sleep_kd.models import context_epochs_of, create_model

        torch.manual_seed(seed)
        form = for_training if fast else (lambda m, **_: m)  # fast: the trainer's default (train.fast_training)
        # compiled: the student's forms for torch.compile (train.compile), as the trainer builds them.
        self.device = torch.device(device)
        self.model = form(create_model(model_name, n_classes=n_classes).train(), compiled=compiled).to(self.device)
        self.teacher = form(create_model(model_name, n_classes=n_classes).eval()).to(self.device) if teacher else None
        self.taps = taps
        # fused Adam on CUDA, as the trainer builds it (sleep_kd/engine/assembly.py)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, fused=self.device.type == "cuda")
        context = context_epochs_of(self.model)
        items = (max(1, batch_size // context), context) if context else (batch_size,)
        self.windows = items[0] * (context or 1)
        self.x = torch.rand(*items, 1, self.model.n_times, device=self.device)
        self.y = torch.randint(0, n_classes, items, device=self.device)
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        self.scaler = torch.amp.GradScaler(self.device.type) if precision == "fp16" else None

    def __call__(self) -> None:
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
            loss = self._loss()
        if self.scaler is None:
            loss.backward()
            self.optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)

    def _loss(self) -> torch.Tensor:
        import torch.nn.functional as F

        if self.teacher is None:
            return F.cross_entropy(self.model(self.x).flatten(0, -2), self.y.flatten())
        with torch.no_grad():
            t_out = self.teacher(self.x, return_taps=self.taps)
        s_out = self.model(self.x, return_taps=self.taps)
        if not self.taps:
            return F.cross_entropy(s_out, self.y) + F.kl_div(s_out.log_softmax(1), t_out.softmax(1),
                                                            reduction="batchmean")
        (s_logits, s_taps), (_, t_taps) = s_out, t_out
        at = sum(((a.float().pow(2).sum(1) - b.float().pow(2).sum(1)) ** 2).mean()
                 for g in s_taps for a, b in zip(s_taps[g], t_taps[g]))
        return F.cross_entropy(s_logits, self.y) + at


def make_cohort(out_dir: Path, *, n_subjects: int, hours: float, seed: int = 7, sfreq: float = 100.0,
                workers: int = 1) -> Path:
    """A synthetic MASS-like cohort, generated and ingested into ``out_dir/cohort.h5``."""
    from sleep_kd.data.ingest import ingest
    from sleep_kd.data.synthetic import generate_cohort

    edf_dir = out_dir / "edf"
    generate_cohort(edf_dir, n_subjects=n_subjects, hours=hours, seed=seed, workers=workers)
    out = out_dir / "cohort.h5"
    ingest("mass", edf_dir, out, sfreq=sfreq, workers=workers, progress=False)
    return out


def temp_dir(prefix: str) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix=f"sleep_kd_bench_{prefix}_")
