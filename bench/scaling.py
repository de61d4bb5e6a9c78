"""Scaling: training cost per window at 1x, 2x, 4x cohort size; one process vs two gloo processes.

``python -m bench.scaling [--quick]``

Cohort size: ``train_loop.py --strategy ecg_base --epochs 1`` on cohorts of n, 2n and 4n
subjects; the figures are seconds per training window at 2x and 4x over 1x (linear = 1.0), from
the whole run's wall clock (setup and validation included) and from the loop's own logged rate.
Processes: the same run as one process with 2 threads, and as
``python -m torch.distributed.run --nproc_per_node 2 train_loop.py ... --cpu`` with
``OMP_NUM_THREADS=1``, alternated; the figure is two-process windows/s over one-process windows/s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, make_cohort, median, record, temp_dir
from bench.loop import tb_rates


def run_train(data: Path, out: Path, *, procs: int, threads: int, batch: int, extra: list[str]) -> tuple[float, float]:
    """(wall seconds, median logged windows/s) of one ``train_loop.py`` run in a fresh process."""
    launcher = [sys.executable] if procs == 1 else [sys.executable, "-m", "torch.distributed.run",
                                                   "--nproc_per_node", str(procs), "--master_port", "29517"]
    argv = launcher + [str(ROOT / "train_loop.py"), "--strategy", "ecg_base", "--data", str(data), "--out", str(out),
                       "--cpu", "--batch-size", str(batch), "--set", "train.log_every=2", *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    rates = tb_rates(out)
    return seconds, median(rates[1:] if len(rates) > 1 else rates)


def train_windows(data: Path) -> int:
    """Training windows of the pooled split of ``data`` (what one epoch trains on)."""
    from sleep_kd.data.dataset import CohortWindows
    from sleep_kd.data.splits import make_splits

    split = make_splits(data, method="pooled", seed=42, k=5, fold=0)["train"]
    return len(CohortWindows(data, n_classes=4, recordings=split, modalities=("ecg",)))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny cohorts, one round (smoke run)")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    base, hours = (6, 0.1) if args.quick else (6, 0.5)
    rounds = 1 if args.quick else 2
    figures: dict = {"batch_size": args.batch_size, "base_subjects": base, "hours": hours}
    with temp_dir("scaling") as tmp:
        work = Path(tmp)
        cohorts = {k: make_cohort(work / f"x{k}", n_subjects=base * k, hours=hours, workers=2) for k in (1, 2, 4)}
        sizes = {k: train_windows(path) for k, path in cohorts.items()}
        per_window: dict[int, list[tuple[float, float]]] = {k: [] for k in cohorts}
        for r in range(rounds):
            for k, path in cohorts.items():
                seconds, rate = run_train(path, work / f"run{k}_{r}", procs=1, threads=2, batch=args.batch_size,
                                          extra=["--epochs", "1"])
                per_window[k].append((seconds / sizes[k], 1.0 / rate))
        for k in (2, 4):
            figures[f"wall_per_window_{k}x_over_1x"] = round(
                median([a[0] / b[0] for a, b in zip(per_window[k], per_window[1])]), 3)
            figures[f"loop_per_window_{k}x_over_1x"] = round(
                median([a[1] / b[1] for a, b in zip(per_window[k], per_window[1])]), 3)
        figures["train_windows"] = {f"{k}x": n for k, n in sizes.items()}
        steps = ["--max-steps", "6" if args.quick else "24", "--epochs", "100"]
        one, two = [], []
        for r in range(rounds):
            one.append(run_train(cohorts[4], work / f"one_{r}", procs=1, threads=2, batch=args.batch_size,
                                 extra=steps)[1])
            two.append(run_train(cohorts[4], work / f"two_{r}", procs=2, threads=1, batch=args.batch_size // 2,
                                 extra=steps)[1])
        figures["two_procs_1thread_over_one_proc_2threads"] = round(median([b / a for a, b in zip(one, two)]), 3)
        figures["one_proc_windows_per_s"] = round(median(one), 1)
    return record("scaling", figures, quick=args.quick)


if __name__ == "__main__":
    main()
