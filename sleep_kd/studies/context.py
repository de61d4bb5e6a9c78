"""Choose the epoch-sequence model: kappa and cost of tcn / gru / transformer against one window.

Each variant trains ``ecg_base`` through :func:`sleep_kd.cli.train.train` on the same cohort, split
and seed for the same number of epochs, and is scored on the validation subjects. Cost is the
wall time of the whole run over the first variant's, measured in this one process (the machine
may be shared: compare ratios, not seconds), and the parameter count. The cost of one training
step of each variant on random input is a benchmark: ``python -m bench.context_cost``.

    sleep-kd study context --data COHORT.h5 --epochs 2 [--context 20] [--variants utime tcn gru transformer]
        [--set data.split=kfold --set data.folds=4] [--encoder-init ONE_WINDOW_CKPT] [--seeds 42 43]
        [--out results/context.jsonl]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from sleep_kd.cli.train import TrainOptions, train
from sleep_kd.errors import ArgumentParser, cli_entry
from sleep_kd.hardware import MIXED_PRECISIONS
from sleep_kd.studies.common import append_line, check_cohort_file

VARIANTS = ("utime", "tcn", "gru", "transformer")  # utime: one window, no sequence model


def variant_options(variant: str, *, context: int, encoder_init: Path | None) -> TrainOptions:
    """The training options that make ``variant``: a context model over ``context`` epochs, or one window."""
    if variant == "utime":
        return TrainOptions()
    sets = [f"model.context_epochs={context}", f"model.overrides={{sequence: {variant}}}"]
    sets += [f"paths.encoder_init={encoder_init}"] if encoder_init is not None else []
    return TrainOptions.of(*sets, model="context_small")


def run_variant(variant: str, *, data: Path, runs: Path, epochs: int, context: int, strategy: str,
                sets: list[str], encoder_init: Path | None = None, seed: int = 42,
                mixed_precision: str = "auto") -> dict:
    """Train one variant; its last validation kappa and macro F1, seconds, kappa history and parameters."""
    from sleep_kd.engine.restore import model_from_checkpoint

    out = runs / f"{variant}-{seed}"
    options = TrainOptions.of("train.log_every=50", f"seed={seed}", *sets, data=data, cpu=True, epochs=epochs,
                              out=out, runs=runs, mixed_precision=mixed_precision)
    start = time.perf_counter()
    code = train(strategy, options + variant_options(variant, context=context, encoder_init=encoder_init))
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(code)  # the run has said why in one line
    metrics = json.loads((out / "last" / "metrics.json").read_text())
    model, _ = model_from_checkpoint(out / "last")
    history = json.loads((out / "state" / "progress.json").read_text()).get("history", [])
    return {"kappa": metrics["kappa"], "macro_f1": metrics["macro_f1"], "seconds": seconds,
            "val_kappa_history": [h["kappa"] for h in history],
            "parameters": sum(p.numel() for p in model.parameters())}


def summary_of(results: dict[str, list[dict]], first: str) -> dict:
    """Per variant: mean and per-seed kappa, time over the first variant's, parameters."""
    baseline = sum(r["seconds"] for r in results[first])
    return {variant: {"kappa_mean": sum(r["kappa"] for r in runs) / len(runs),
                      "kappa_per_seed": [r["kappa"] for r in runs],
                      "time_vs_first": sum(r["seconds"] for r in runs) / baseline,
                      "parameters": runs[0]["parameters"]} for variant, runs in results.items()}


@cli_entry
def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="sleep-kd study context", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="cohort HDF5 file")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--context", type=int, default=20)
    parser.add_argument("--strategy", default="ecg_base")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE for every run (e.g. data.split=kfold)")
    parser.add_argument("--encoder-init", type=Path,
                        help="single-window checkpoint that starts every context variant's encoder (paths.encoder_init)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42], help="one run per seed and variant")
    parser.add_argument("--mixed-precision", default="auto", choices=MIXED_PRECISIONS,
                        help="auto (default): what the trainer picks on this machine")
    parser.add_argument("--out", type=Path, default=Path("results/context.jsonl"),
                        help="JSON-lines file the result is appended to")
    args = parser.parse_args(argv)
    check_cohort_file(args.data)
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="sleep_kd_context_") as tmp:
        for seed in args.seeds:  # variants inside seeds: each seed's runs are close in time (a shared machine)
            for variant in args.variants:
                results.setdefault(variant, []).append(run_variant(
                    variant, data=args.data, runs=Path(tmp), epochs=args.epochs, context=args.context,
                    strategy=args.strategy, sets=args.set, encoder_init=args.encoder_init, seed=seed,
                    mixed_precision=args.mixed_precision))
    append_line(args.out, "context", {
        "data": str(args.data), "epochs": args.epochs, "context_epochs": args.context, "strategy": args.strategy,
        "sets": args.set, "seeds": args.seeds, "mixed_precision": args.mixed_precision, "encoder_init": str(args.encoder_init) if args.encoder_init else None,
        "summary": summary_of(results, args.variants[0]), "runs": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
