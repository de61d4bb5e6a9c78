"""Compute efficiency: the bare training step's FLOP/s over a large fp32 matmul's FLOP/s.

``python -m bench.compute [--quick] [--compile] [--plain] [--only utime_small/b64/fp32/t2,...]``

For each setting (model, batch, precision, threads) the bare step (forward, cross-entropy,
backward, Adam on a batch in memory) is timed round-robin with the others and with a 1024^3
fp32 matmul; the figure is ``step FLOP/s / matmul FLOP/s`` per round, median over rounds. FLOPs
are counted once per setting by ``FlopCounterMode`` (convolutions and matmuls, forward and
backward). Windows/s are given for context (absolute, noisy).
"""

from __future__ import annotations

import argparse

import torch

from bench.common import BareStep, count_flops, interleaved, matmul_flops_per_s, median, record, timed

from sleep_kd.hardware import native_bf16

# (model, batch, precision, threads); seed at a small batch: one step takes seconds.
FULL = [("utime_small", b, p, t) for b in (32, 64, 128) for p in ("no", "bf16") for t in (2,)] + [
    ("utime_small", 64, "no", 1), ("utime_small", 64, "bf16", 1),
    ("utime_seed", 8, "no", 2), ("utime_seed", 8, "bf16", 2),
    ("context_small", 64, "no", 2), ("context_small", 64, "bf16", 2)]  # 3 sequences x 20 epochs, as trained
QUICK = [("utime_small", 8, "no", 2), ("utime_small", 8, "bf16", 2), ("utime_seed", 2, "no", 2),
         ("context_small", 20, "no", 2)]


def setting_name(model: str, batch: int, precision: str, threads: int, compiled: bool = False) -> str:
    return f"{model}/b{batch}/{'fp32' if precision == 'no' else precision}/t{threads}" + ("/compiled" if compiled else "")


def with_threads(fn, threads: int):
    """``fn`` run with ``threads`` intra-op threads (restored after)."""
    def run():
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            fn()
        finally:
            torch.set_num_threads(before)
    return run


first_call: dict[str, float] = {}  # seconds of each compiled step's first call (the compile)


def build(settings, *, compile_too: bool, plain_too: bool = False):
    """Steps and their FLOPs per call, keyed by setting name.

    The FLOPs are always the plain eager network's (the work the model is, as FlopCounterMode
    counts it), so a faster equivalent form (``sleep_kd.fast``, the trainer's default)
    shows as a higher efficiency, not as less work. ``plain_too`` adds the plain network's step
    (``/plain``) beside each setting.
    """
    steps, flops = {}, {}
    first_call.clear()
    for model, batch, precision, threads in settings:
        variants = [(False, True)] + ([(True, True)] if compile_too else []) + ([(False, False)] if plain_too else [])
        work = count_flops(BareStep(model, batch_size=batch, precision=precision, fast=False))
        for compiled, fast in variants:
            step = BareStep(model, batch_size=batch, precision=precision, fast=fast, compiled=compiled and fast)
            name = setting_name(model, batch, precision, threads, compiled) + ("" if fast else "/plain")
            if compiled:  # the first call compiles (inductor's cache, if warm, shortens it): timed apart
                step.model = torch.compile(step.model)
                first_call[name] = timed(with_threads(step, threads))
            flops[name] = work
            steps[name] = (with_threads(step, threads), step.windows)
    return steps, flops


def bf16_over_fp32(steps: dict, times: dict) -> dict[str, float]:
    """Per model/batch/threads: median over rounds of fp32 seconds / bf16 seconds (same round)."""
    ratios = {}
    for name in steps:
        if "/bf16/" in name:
            fp32 = name.replace("/bf16/", "/fp32/")
            if fp32 in times:
                ratios[fp32.replace("/fp32", "")] = round(median([a / b for a, b in zip(times[fp32], times[name])]), 3)
    return ratios


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round (smoke run)")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile'd models")
    parser.add_argument("--plain", action="store_true",
                        help="also time the plain network (train.fast_training: false) beside each setting")
    parser.add_argument("--only", default=None, help="comma-separated model/bN/precision/tN settings (default: all)")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.only:
        wanted = set(args.only.split(","))
        settings = [s for s in settings if setting_name(*s) in wanted]
    rounds = args.rounds or (1 if args.quick else 5)
    steps, flops = build(settings, compile_too=args.compile, plain_too=args.plain)
    matmul_n = 256 if args.quick else 1024
    sides = {"matmul": lambda: matmul_flops_per_s(n=matmul_n, repeats=3)}
    rates: dict[str, list[float]] = {"matmul": []}

    def matmul_side():
        rates["matmul"].append(sides["matmul"]())
    times = interleaved({"matmul": matmul_side, **{k: fn for k, (fn, _) in steps.items()}}, rounds=rounds)
    figures = {"matmul_gflops": round(median(rates["matmul"]) / 1e9, 1), "settings": {}}
    for name, (_, batch) in steps.items():
        # Each round's step FLOP/s against the matmul rate measured in that same round.
        ratios = [flops[name] / s / r for s, r in zip(times[name], rates["matmul"][-rounds:])]
        figures["settings"][name] = {"flop_efficiency": round(median(ratios), 4),
                                     "gflop_per_step": round(flops[name] / 1e9, 3),
                                     "windows_per_s": round(batch / median(times[name]), 1)}
        if name in first_call:
            figures["settings"][name]["first_call_s"] = round(first_call[name], 1)
        print(f"{name:32s} efficiency {median(ratios):.3f}  {batch / median(times[name]):7.1f} windows/s"
              + (f"  (first call, compiling: {first_call[name]:.1f} s)" if name in first_call else ""))
    base = setting_name("utime_small", 64, "no", 2)
    for name in steps:  # speed of each setting relative to the fp32 batch-64 default, per window
        if base in steps and name != base:
            b_other, b_base = steps[name][1], steps[base][1]
            speedups = [(b_other / t) / (b_base / t0) for t, t0 in zip(times[name], times[base])]
            figures["settings"][name]["windows_per_s_vs_fp32_b64"] = round(median(speedups), 3)
    figures["bf16_over_fp32"] = bf16_over_fp32(steps, times)
    figures["fast_over_plain"] = {name: round(median([p / f for p, f in zip(times[name + "/plain"], times[name])]), 3)
                                  for name in steps if name + "/plain" in steps}
    if figures["fast_over_plain"]:
        print("fast_training forms / plain network, speed of the same step: "
              + ", ".join(f"{k} {v:.2f}x" for k, v in figures["fast_over_plain"].items()))
    print("bf16 / fp32 speed of the same step on this CPU (>1: bf16 is faster; "
          f"native bf16: {native_bf16(cuda=False)}): " + ", ".join(f"{k} {v:.2f}x" for k, v in figures["bf16_over_fp32"].items()))
    return record("compute", figures, quick=args.quick)


if __name__ == "__main__":
    main()
