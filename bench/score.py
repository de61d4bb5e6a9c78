"""Scoring a night: seconds to stage 960 windows (8 h) over the forward FLOPs at the matmul rate.

``python -m bench.score [--quick] [--model utime_small]``

The model path of ``evaluate.py`` (``sleep_kd.fast.for_scoring`` of the network,
``torch.no_grad``, its default batch, fp32 and bf16 autocast) runs over an 8-hour night already
in memory, round-robin with a 1024^3 fp32 matmul. The figure is the night's seconds over its
forward FLOPs divided by the matmul FLOP/s of the same round (1.0 = at the limit; goal <= 1.5).
The same night through the plain network in eval mode at batch 256 (``plain_*``: what scoring
costs without the scoring copy) gives the speed-up of the copy.
"""

from __future__ import annotations

import argparse

import torch

from bench.common import count_flops, interleaved, matmul_flops_per_s, median, paired_ratio, record


def stage_night(model: torch.nn.Module, night: torch.Tensor, *, batch: int, bf16: bool = False) -> torch.Tensor:
    """Predicted class of each window of ``night`` (N, 1, n_times), as evaluate.py computes them."""
    out = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for start in range(0, night.shape[0], batch):
            out.append(model(night[start:start + batch]).argmax(1))
    return torch.cat(out)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="96 windows, one round (smoke run)")
    parser.add_argument("--model", default="utime_small")
    parser.add_argument("--batch-size", type=int, default=None, help="default: evaluate.py's")
    args = parser.parse_args(argv)
    from sleep_kd.fast import for_scoring
    from sleep_kd.evaluation.precision import DEFAULT_BATCH
    from sleep_kd.models import create_model

    batch = args.batch_size or DEFAULT_BATCH

    windows = 96 if args.quick else 960
    rounds = 1 if args.quick else 5
    model = create_model(args.model, n_classes=4).eval()
    scoring = for_scoring(model)
    night = torch.rand(windows, 1, model.n_times)
    # The network's own FLOPs: the plain network runs every convolution as written (the scoring
    # copy's phase forms do a little more arithmetic in the first layer, less in the decoder).
    flops = count_flops(lambda: stage_night(model, night, batch=batch))
    rates: list[float] = []
    times = interleaved({
        "matmul": lambda: rates.append(matmul_flops_per_s(n=256 if args.quick else 1024, repeats=3)),
        "fp32": lambda: stage_night(scoring, night, batch=batch),
        "bf16": lambda: stage_night(scoring, night, batch=batch, bf16=True),
        "plain_fp32": lambda: stage_night(model, night, batch=256),
        "plain_bf16": lambda: stage_night(model, night, batch=256, bf16=True),
    }, rounds=rounds)
    rates = rates[-rounds:]
    limit = [flops / r for r in rates]  # seconds the night would take at the matmul rate
    over = {side: round(median([t / lim for t, lim in zip(times[side], limit)]), 2) for side in times if side != "matmul"}
    figures = {
        "model": args.model, "windows": windows, "batch_size": batch,
        "forward_gflop": round(flops / 1e9, 2), "matmul_gflops": round(median(rates) / 1e9, 1),
        **{f"seconds_over_limit_{side}": value for side, value in over.items()},
        "speedup_fp32": round(paired_ratio(times["plain_fp32"], times["fp32"]), 2),
        "speedup_bf16": round(paired_ratio(times["plain_bf16"], times["bf16"]), 2),
        "night_seconds_fp32": round(median(times["fp32"]), 2),
        "night_seconds_bf16": round(median(times["bf16"]), 2),
    }
    return record("score", figures, quick=args.quick)


if __name__ == "__main__":
    main()
