"""The speed section of the GPU check: which measurements, in what order, within the time budget.

Most wanted first: the matmul rates, the training step at batch 64 per model and precision,
whole-night scoring, the loader; then the largest batch, which takes whatever time is left. Each
measurement is guarded (an error is a figure, not the end of the run) and starts only if the
deadline allows it. The measurements themselves are in ``bench/gpu_speed.py``.
"""

from __future__ import annotations

from typing import Callable

import torch

from bench.gpu_speed import (Deadline, SpeedPlan, guarded, largest_batch, loader_rate, matmul_rate, night_scoring,
                       set_cuda_defaults, step_flops_per_window, time_step)


def workers_needed(loader_per_s: dict[int, object], training_per_s: float) -> int | None:
    """The fewest loader workers whose windows/s reach ``training_per_s`` (None: none of those tried)."""
    enough = [w for w, rate in sorted(loader_per_s.items()) if isinstance(rate, float) and rate >= training_per_s]
    return enough[0] if enough else None


def matmul_figures(plan: SpeedPlan) -> dict:
    """TFLOP/s of the large matmul per precision, and fp32 with TF32 off (what strict fp32 would give)."""
    def tflops(precision: str) -> float:
        return round(matmul_rate(precision, n=plan.matmul_n, device=plan.device) / 1e12, 3)

    rates = {p: guarded(lambda: tflops(p)) for p in plan.precisions}
    torch.backends.cuda.matmul.allow_tf32 = False
    rates["fp32_without_tf32"] = guarded(lambda: tflops("fp32"))
    set_cuda_defaults()
    return rates


def training_figures(plan: SpeedPlan, deadline: Deadline) -> dict:
    """Per model: GFLOPs per window and training step, and per precision the step at ``plan.batch``."""
    figures = {}
    for model in plan.models:
        if not deadline.allows(20):
            figures[model] = {p: {"skipped": "out of time"} for p in plan.precisions}
            continue
        flops = guarded(lambda: step_flops_per_window(model, batch=plan.batch, device=plan.device))
        counted = isinstance(flops, float)
        entry = figures[model] = {"gflop_per_window_step": round(flops / 1e9, 3) if counted else flops}
        for precision in plan.precisions:
            if not counted or not deadline.allows(20):
                entry[precision] = {"skipped": "out of time" if counted else "no FLOP count"}
                continue
            entry[precision] = guarded(lambda: time_step(model, precision, plan.batch, flops_per_window=flops,
                                                         plan=plan))
    return figures


def scoring_figures(plan: SpeedPlan, deadline: Deadline) -> dict:
    """Whole-night scoring (``night_scoring``) per model, precision and batch."""
    figures: dict = {}
    for model in plan.models:
        for precision in plan.precisions:
            for batch in plan.scoring_batches:
                figures.setdefault(model, {})[f"{precision}/b{batch}"] = (
                    guarded(lambda: night_scoring(model, precision, batch=batch, plan=plan))
                    if deadline.allows(15) else {"skipped": "out of time"})
    return figures


def loader_figures(cohort, training: dict, plan: SpeedPlan, deadline: Deadline) -> dict:
    """Loader windows/s for ``plan.loader_model``'s inputs (ECG, and EEG + ECG as the KD strategies read
    them) against its training windows/s at ``plan.batch``, per precision; the workers each needs."""
    steps = training.get(plan.loader_model, {})
    rates = {p: steps[p]["windows_per_s"] for p in plan.precisions
             if isinstance(steps.get(p), dict) and steps[p].get("windows_per_s")}
    figures: dict = {"training_windows_per_s": rates}
    for modalities in (("ecg",), ("eeg", "ecg")):
        measured: dict = {}
        for workers in plan.loader_workers:
            if not deadline.allows(4 * plan.loader_seconds):
                measured[workers] = {"skipped": "out of time"}
                continue
            measured[workers] = guarded(lambda: round(loader_rate(
                cohort, modalities=modalities, sfreq=plan.loader_sfreq, batch=plan.batch, workers=workers,
                seconds=plan.loader_seconds, device=plan.device), 1))
        entry = figures["+".join(modalities)] = {"windows_per_s_by_workers": measured}
        for precision, rate in rates.items():
            entry[f"workers_needed_{precision}"] = workers_needed(measured, rate)
            entry[f"loader_over_training_{precision}"] = {w: round(r / rate, 2) for w, r in measured.items()
                                                         if isinstance(r, float)}
    return figures


def largest_batch_figures(training: dict, plan: SpeedPlan, deadline: Deadline, *, reserve_s: float = 10.0) -> dict:
    """Per model and precision: the largest batch (``largest_batch``) and the step timed there."""
    settings = [(m, p) for m in plan.models for p in plan.precisions]
    figures: dict = {}
    for index, (model, precision) in enumerate(settings):
        share = (deadline.left() - reserve_s) / (len(settings) - index)
        if share < 4:
            figures.setdefault(model, {})[precision] = {"skipped": "out of time"}
            continue
        found = guarded(lambda: largest_batch(model, precision, device=plan.device, start=plan.batch,
                                              budget_s=min(plan.largest_batch_s, 0.7 * share)))
        gflop = training.get(model, {}).get("gflop_per_window_step")
        if isinstance(found, dict) and found.get("largest_batch") == plan.batch:  # timed already
            found["step"] = training.get(model, {}).get(precision)
        elif isinstance(found, dict) and found.get("largest_batch") and isinstance(gflop, float):
            found["step"] = guarded(lambda: time_step(model, precision, found["largest_batch"], plan=plan,
                                                      flops_per_window=gflop * 1e9, rounds=2))
        figures.setdefault(model, {})[precision] = found
    return figures


def speed_figures(cohort, deadline: Deadline, plan: SpeedPlan = SpeedPlan(),
                  on_section: Callable[[dict], None] | None = None) -> dict:
    """Every speed figure of the check, most wanted first, each measurement within ``deadline``.

    ``on_section(figures)`` is called after each section with what is measured so far (the check
    saves its report there, so a run stopped from outside keeps its figures).
    """
    set_cuda_defaults()
    figures: dict = {"plan": {"models": list(plan.models), "batch": plan.batch, "night_epochs": plan.night_epochs}}
    sections = (("matmul_tflops", lambda: matmul_figures(plan)),
                ("training", lambda: training_figures(plan, deadline)),
                ("scoring_night", lambda: scoring_figures(plan, deadline)),
                ("loader", lambda: loader_figures(cohort, figures["training"], plan, deadline)),
                ("largest_batch", lambda: largest_batch_figures(figures["training"], plan, deadline)))
    for name, measure in sections:
        figures[name] = guarded(measure)
        if on_section is not None:
            on_section(figures)
    return figures
