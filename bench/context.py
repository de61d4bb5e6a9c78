"""Choose the epoch-sequence model: kappa and cost of tcn / gru / transformer against one window.

Each variant trains ``ecg_base`` through the real entry point (train_loop.main) on the same cohort,
split and seed for the same number of epochs, and is scored on the validation subjects. Cost is the
wall time of the whole run over the single-window run's, measured in this one process (the machine
may be shared: compare ratios, not seconds), and the parameter count.

    python bench/context.py --data COHORT.h5 --epochs 2 [--context 20] [--variants utime tcn gru transformer]
        [--set data.split=kfold --set data.folds=4] [--encoder-init ONE_WINDOW_CKPT] [--seeds 42 43]
    python bench/context.py --cost-only [--context 20]   (training-step cost only, random input)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import record  # noqa: E402

VARIANTS = ("utime", "tcn", "gru", "transformer")


def run_variant(variant: str, *, data: Path, runs: Path, epochs: int, context: int, strategy: str,
                sets: list[str], encoder_init: Path | None = None, seed: int = 42) -> dict:
    import train_loop
    from sleep_kd.engine.restore import model_from_checkpoint

    out = runs / f"{variant}-{seed}"
    args = ["--strategy", strategy, "--data", str(data), "--cpu", "--epochs", str(epochs), "--out", str(out),
            "--runs", str(runs), "--mixed-precision", "no", "--set", "train.log_every=50", "--set", f"seed={seed}",
            *[a for pair in sets for a in ("--set", pair)]]
    if variant != "utime":
        args += ["--model", "context_small", "--set", f"model.context_epochs={context}",
                 "--set", f"model.overrides={{sequence: {variant}}}"]
        if encoder_init is not None:
            args += ["--set", f"paths.encoder_init={encoder_init}"]
    start = time.perf_counter()
    code = train_loop.main(args)
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"{variant}: train_loop exited with {code}")
    metrics = json.loads((out / "last" / "metrics.json").read_text())
    model, _ = model_from_checkpoint(out / "last")
    history = json.loads((out / "state" / "progress.json").read_text()).get("history", [])
    return {"kappa": metrics["kappa"], "macro_f1": metrics["macro_f1"], "seconds": seconds,
            "val_kappa_history": [h["kappa"] for h in history],
            "parameters": sum(p.numel() for p in model.parameters())}


def step_costs(*, context: int, rounds: int) -> dict:
    """Seconds per training step (forward + backward + Adam) on random input, variants interleaved.

    Every variant sees the same number of windows per step (``context`` sequences of ``context``
    epochs for the context variants, ``context * context`` windows for U-Time alone).
    """
    import torch

    from bench.common import interleaved, median, paired_ratio
    from sleep_kd.models import create_model

    torch.manual_seed(0)
    sides, params = {}, {}
    for variant in VARIANTS:
        if variant == "utime":
            model, x = create_model("utime_small", n_classes=4), torch.rand(2 * context, 1, 3000)
        else:
            model = create_model("context_small", n_classes=4, context_epochs=context, sequence=variant)
            x = torch.rand(2, context, 1, 3000)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        params[variant] = sum(p.numel() for p in model.parameters())

        def one_step(model=model, x=x, optimizer=optimizer):
            loss = model(x).float().logsumexp(-1).mean()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        sides[variant] = one_step
    times = interleaved(sides, rounds=rounds, warmup=1)
    return {v: {"parameters": params[v], "step_s": median(times[v]),
                "step_vs_utime": paired_ratio(times[v], times["utime"])} for v in VARIANTS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--context", type=int, default=20)
    parser.add_argument("--strategy", default="ecg_base")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE for every run (e.g. data.split=kfold)")
    parser.add_argument("--encoder-init", type=Path,
                        help="single-window checkpoint that starts every context variant's encoder (paths.encoder_init)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42], help="one run per seed and variant")
    parser.add_argument("--cost-only", action="store_true", help="only time training steps on random input")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if args.cost_only:
        record("context_cost", {"context_epochs": args.context, "windows_per_step": 2 * args.context,
                                "results": step_costs(context=args.context, rounds=args.rounds)}, quick=False)
        return 0
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-context-") as tmp:
        for seed in args.seeds:  # variants inside seeds: each seed's runs are close in time (a shared machine)
            for variant in args.variants:
                results.setdefault(variant, []).append(run_variant(
                    variant, data=args.data, runs=Path(tmp), epochs=args.epochs, context=args.context,
                    strategy=args.strategy, sets=args.set, encoder_init=args.encoder_init, seed=seed))
    first = results[args.variants[0]]
    summary = {variant: {"kappa_mean": sum(r["kappa"] for r in runs) / len(runs),
                         "kappa_per_seed": [r["kappa"] for r in runs],
                         "time_vs_first": sum(r["seconds"] for r in runs) / sum(r["seconds"] for r in first),
                         "parameters": runs[0]["parameters"]} for variant, runs in results.items()}
    record("context", {"data": str(args.data), "epochs": args.epochs, "context_epochs": args.context,
                       "strategy": args.strategy, "sets": args.set, "seeds": args.seeds,
                       "encoder_init": str(args.encoder_init) if args.encoder_init else None,
                       "summary": summary, "runs": results}, quick=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
