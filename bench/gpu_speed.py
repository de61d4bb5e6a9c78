"""The paper's networks on one GPU: step speed against the GPU's own matmul rate, memory, the largest
batch, the HDF5 loader's headroom and whole-night scoring. ``bench/gpu.py`` calls :func:`speed_figures`.

On CUDA every time is taken with CUDA events around back-to-back calls (on the CPU, where the
tests run the same code at tiny sizes, with the wall clock). A step's FLOPs are the plain
network's, counted once by ``FlopCounterMode`` (as ``bench/compute.py`` counts them), so the
faster equivalent forms the trainer runs show as a higher efficiency, not as less work. The
efficiency of a step is its FLOP/s over a large matmul's FLOP/s in the same precision, the matmul
timed in the same round. fp32 runs TF32 matrix products and convolutions, as the trainer sets it
on CUDA (``configure_backends``), and cudnn autotunes each shape.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from bench.common import BareStep, count_flops, median

PRECISIONS = {"fp32": "no", "bf16": "bf16", "fp16": "fp16"}  # shown name -> train.mixed_precision
MATMUL_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
MAX_BATCH = 1 << 16  # windows; the doubling stops here even if memory is left


@dataclass(frozen=True)
class SpeedPlan:
    """What the speed section measures; the defaults are the GPU check's (the tests shrink them)."""

    models: tuple[str, ...] = ("utime_seed", "context_seed")  # the paper's network, and with night context
    precisions: tuple[str, ...] = ("fp32", "bf16", "fp16")
    batch: int = 64  # windows per training step
    rounds: int = 3  # of (matmul, steps) per timed setting
    step_seconds: float = 1.0  # of back-to-back steps per round
    matmul_n: int = 8192
    loader_model: str = "utime_seed"  # whose training rate the loader must keep up with
    loader_sfreq: float = 200.0  # Hz the loader's windows are read at (the cohort's rate: no resampling)
    loader_workers: tuple[int, ...] = (0, 2, 4, 8)
    loader_seconds: float = 2.5
    scoring_batches: tuple[int, ...] = (128, 1024)  # evaluate.py's default, and a GPU-sized one
    night_epochs: int = 960  # an 8-h night of 30-s epochs
    largest_batch_s: float = 40.0  # at most, per model and precision
    device: str = "cuda"


class Deadline:
    """Seconds left of the check's budget; a measurement starts only if its estimate fits."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def allows(self, seconds: float) -> bool:
        return self.left() >= seconds


def free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def guarded(fn: Callable[[], object]) -> object:
    """``fn()``, or ``{"error": "<type>: <first line>"}``: one failed measurement does not end the run."""
    try:
        return fn()
    except Exception as error:  # noqa: BLE001  (reported in the figures, not raised)
        text = str(error).strip()
        return {"error": f"{type(error).__name__}: {text.splitlines()[0][:300] if text else ''}"}
    finally:
        free_memory()


def set_cuda_defaults() -> None:
    """The trainer's CUDA settings (``sleep_kd.engine.trainer.configure_backends``, not deterministic)."""
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True


def seconds_per_call(fn: Callable[[], object], *, calls: int, device: str) -> float:
    """Seconds per call of ``fn`` over ``calls`` back-to-back calls (CUDA events on CUDA)."""
    if torch.device(device).type != "cuda":
        tick = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - tick) / calls
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(calls):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1e3 / calls


def matmul_rate(precision: str, *, n: int, device: str, calls: int = 10) -> float:
    """FLOP/s of an (n x n) @ (n x n) matmul in ``precision`` (fp32: TF32 where it is on)."""
    a = torch.randn(n, n, device=device, dtype=MATMUL_DTYPES[precision])
    b = torch.randn(n, n, device=device, dtype=MATMUL_DTYPES[precision])
    a @ b
    return 2.0 * n ** 3 / seconds_per_call(lambda: a @ b, calls=calls, device=device)


def step_flops_per_window(model: str, *, batch: int, device: str) -> float:
    """FLOPs of one training step (forward, backward, Adam) per window, of the plain network."""
    step = BareStep(model, batch_size=batch, fast=False, device=device)
    return count_flops(step) / step.windows


def _peak_bytes(device: str) -> int | None:
    return torch.cuda.max_memory_allocated() if torch.device(device).type == "cuda" else None


def time_step(model: str, precision: str, batch: int, *, flops_per_window: float, plan: SpeedPlan,
              rounds: int | None = None) -> dict:
    """The bare training step at ``batch`` windows: windows/s, efficiency against the matmul, peak memory.

    The peak (``torch.cuda.max_memory_allocated``, GiB) is that of two steps (Adam's state
    included), taken before any matmul runs beside them.
    """
    device = plan.device
    free_memory()
    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    step = BareStep(model, batch_size=batch, precision=PRECISIONS[precision], device=device)
    step()
    step()  # cudnn autotuning, Adam's state
    peak = _peak_bytes(device)
    once = seconds_per_call(step, calls=1, device=device)
    calls = max(2, min(50, int(plan.step_seconds / max(once, 1e-4))))
    times, rates = [], []
    for _ in range(rounds or plan.rounds):  # matmul and step alternate: a clock change hits both sides
        rates.append(matmul_rate(precision, n=plan.matmul_n, device=device))
        times.append(seconds_per_call(step, calls=calls, device=device))
    efficiency = [flops_per_window * step.windows / t / r for t, r in zip(times, rates)]
    return {"batch_windows": step.windows, "windows_per_s": round(step.windows / median(times), 1),
            "seconds_per_step": round(median(times), 5), "matmul_tflops": round(median(rates) / 1e12, 3),
            "fraction_of_matmul": round(median(efficiency), 4),
            "peak_memory_gib": None if peak is None else round(peak / 2 ** 30, 2)}


def fits(model: str, precision: str, batch: int, *, device: str) -> tuple[bool, float, str]:
    """Whether two training steps at ``batch`` windows run: ``(fits, seconds, why not)``."""
    step = None
    try:
        tick = time.perf_counter()
        step = BareStep(model, batch_size=batch, precision=PRECISIONS[precision], device=device)
        step()
        step()
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        return True, time.perf_counter() - tick, ""
    except torch.cuda.OutOfMemoryError:
        return False, 0.0, "out of memory"
    except RuntimeError as error:  # cuDNN refuses some huge shapes before memory runs out
        return False, 0.0, (str(error).strip().splitlines() or [""])[0][:200]
    finally:
        del step
        free_memory()


def largest_batch(model: str, precision: str, *, device: str, start: int, budget_s: float) -> dict:
    """The largest batch (windows, doubling from ``start``) whose training step runs.

    ``stopped_by`` says why the doubling ended: ``out of memory`` (the answer is exact), an error
    text, ``time`` or ``cap`` (then ``largest_batch`` is only a lower bound).
    """
    stop, batch, largest, last_s = time.monotonic() + budget_s, start, None, 0.0
    while True:
        if time.monotonic() + 3 * last_s > stop:  # the next doubling takes about twice the last
            return {"largest_batch": largest, "stopped_by": "time"}
        ok, seconds, why = fits(model, precision, batch, device=device)
        if not ok:
            return {"largest_batch": largest, "stopped_by": why, "failed_at": batch}
        largest, last_s, batch = batch, seconds, batch * 2
        if batch > MAX_BATCH:
            return {"largest_batch": largest, "stopped_by": "cap"}


def loader_rate(cohort, *, modalities: tuple[str, ...], sfreq: float, batch: int, workers: int, seconds: float,
                device: str) -> float:
    """Windows/s of the trainer's training DataLoader (``make_loader``, pinned on CUDA) copied to ``device``.

    The first batch (workers starting, files opening) is left out; the cohort file is read as it
    lies (in the GPU check, freshly written: in the page cache).
    """
    from sleep_kd.data.dataset import CohortWindows
    from sleep_kd.engine.data import make_loader

    dataset = CohortWindows(cohort, n_classes=4, sfreq=sfreq, modalities=modalities)
    config = {"seed": 0, "data": {"num_workers": workers}, "train": {"batch_size": batch, "windows_per_epoch": 0}}
    loader = make_loader(dataset, config, shuffle=True, pin_memory=torch.device(device).type == "cuda")
    windows, tick, epoch = 0, None, 0
    while tick is None or time.perf_counter() - tick < seconds:
        loader.sampler.set_epoch(epoch)
        for items in loader:
            for name in modalities:
                items[name].to(device, non_blocking=True)
            if tick is None:
                tick = time.perf_counter()
                continue
            windows += items["label"].shape[0]
            if time.perf_counter() - tick >= seconds:
                break
        epoch += 1
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
    return windows / (time.perf_counter() - tick)


def night_scoring(model: str, precision: str, *, batch: int, plan: SpeedPlan, calls: int = 3) -> dict:
    """``sleep_kd.predict.score_night`` of a whole night (windows in host memory, as predict holds them)."""
    from sleep_kd.models import create_model
    from sleep_kd.predict import score_night

    network = create_model(model, n_classes=4).eval().to(plan.device)
    windows = np.random.default_rng(0).random((plan.night_epochs, network.n_times), dtype=np.float32)
    score = lambda: score_night(network, windows, precision=PRECISIONS[precision], batch_size=batch)  # noqa: E731
    score()  # cudnn autotuning
    tick = time.perf_counter()
    for _ in range(calls):
        score()  # returns host arrays: each call ends synchronised
    seconds = (time.perf_counter() - tick) / calls
    return {"seconds_per_night": round(seconds, 4), "nights_per_s": round(1.0 / seconds, 2)}
