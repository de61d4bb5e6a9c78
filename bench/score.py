"""Scoring a night: seconds to stage 960 windows (8 h) over the forward FLOPs at the matmul rate.

``python bench/score.py [--quick] [--model utime_small]``

The model path of ``evaluate.py`` (eval mode, ``torch.no_grad``, batch 256) runs over an 8-hour
night already in memory, round-robin with a 1024^3 fp32 matmul. The figure is the night's
seconds over its forward FLOPs divided by the matmul FLOP/s of the same round (1.0 = at the
limit; goal <= 1.5). A second figure times the whole ``predict_checkpoint`` path (HDF5 reads,
normalisation, DataLoader) over the bare forward on the same night.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from common import count_flops, interleaved, matmul_flops_per_s, median, record  # noqa: E402


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
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    from sleep_kd.models import create_model

    windows = 96 if args.quick else 960
    rounds = 1 if args.quick else 5
    model = create_model(args.model, n_classes=4).eval()
    night = torch.rand(windows, 1, model.n_times)
    flops = count_flops(lambda: stage_night(model, night, batch=args.batch_size))
    rates: list[float] = []
    times = interleaved({
        "matmul": lambda: rates.append(matmul_flops_per_s(n=256 if args.quick else 1024, repeats=3)),
        "fp32": lambda: stage_night(model, night, batch=args.batch_size),
        "bf16": lambda: stage_night(model, night, batch=args.batch_size, bf16=True),
    }, rounds=rounds)
    rates = rates[-rounds:]
    limit = [flops / r for r in rates]  # seconds the night would take at the matmul rate
    figures = {
        "model": args.model, "windows": windows, "batch_size": args.batch_size,
        "forward_gflop": round(flops / 1e9, 2), "matmul_gflops": round(median(rates) / 1e9, 1),
        "seconds_over_limit_fp32": round(median([t / lim for t, lim in zip(times["fp32"], limit)]), 2),
        "seconds_over_limit_bf16": round(median([t / lim for t, lim in zip(times["bf16"], limit)]), 2),
        "night_seconds_fp32": round(median(times["fp32"]), 2),
        "night_seconds_bf16": round(median(times["bf16"]), 2),
    }
    return record("score", figures, quick=args.quick)


if __name__ == "__main__":
    main()
