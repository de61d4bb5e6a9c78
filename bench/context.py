"""Choose the epoch-sequence model: kappa and cost of tcn / gru / transformer against one window.

Each variant trains ``ecg_base`` through the real entry point (train_loop.main) on the same cohort,
split and seed for the same number of epochs, and is scored on the validation subjects. Cost is the
wall time of the whole run over the single-window run's, measured in this one process (the machine
may be shared: compare ratios, not seconds), and the parameter count.

    python bench/context.py --data COHORT.h5 --epochs 2 [--context 20] [--variants utime tcn gru transformer]
        [--set data.split=kfold --set data.folds=4]
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
                sets: list[str]) -> dict:
    import train_loop
    from sleep_kd.engine.restore import model_from_checkpoint

    out = runs / variant
    args = ["--strategy", strategy, "--data", str(data), "--cpu", "--epochs", str(epochs), "--out", str(out),
            "--runs", str(runs), "--mixed-precision", "no", "--set", "train.log_every=50",
            *[a for pair in sets for a in ("--set", pair)]]
    if variant != "utime":
        args += ["--model", "context_small", "--set", f"model.context_epochs={context}",
                 "--set", f"model.overrides={{sequence: {variant}}}"]
    start = time.perf_counter()
    code = train_loop.main(args)
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"{variant}: train_loop exited with {code}")
    metrics = json.loads((out / "last" / "metrics.json").read_text())
    model, _ = model_from_checkpoint(out / "last")
    return {"kappa": metrics["kappa"], "macro_f1": metrics["macro_f1"], "seconds": seconds,
            "parameters": sum(p.numel() for p in model.parameters())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--context", type=int, default=20)
    parser.add_argument("--strategy", default="ecg_base")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE for every run (e.g. data.split=kfold)")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-context-") as tmp:
        for variant in args.variants:
            results[variant] = run_variant(variant, data=args.data, runs=Path(tmp), epochs=args.epochs,
                                           context=args.context, strategy=args.strategy, sets=args.set)
    base = results.get("utime", next(iter(results.values())))["seconds"]
    for variant, figures in results.items():
        figures["time_vs_first"] = figures["seconds"] / base
    record("context", {"data": str(args.data), "epochs": args.epochs, "context_epochs": args.context,
                       "strategy": args.strategy, "sets": args.set, "results": results}, quick=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
