"""Loader headroom and memory: DataLoader windows/s over training windows/s; peak RSS, 100 vs 10 nights.

``python -m bench.loader [--quick] [--workers 0]``

Headroom: a pass of the training DataLoader (as the loop builds it: lazy HDF5 windows, minmax,
collation; ``--workers`` processes) timed round-robin with bare utime_small training steps of the
same batch; the figure is loader windows/s over training windows/s (goal >= 5). Memory: a fresh
subprocess opens the training windows of a cohort and iterates them all, reporting its peak RSS
(``ru_maxrss``); the figure is peak(100 recordings) / peak(10 recordings) (goal <= 1.2).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import torch

from bench.common import ROOT, BareStep, interleaved, make_cohort, median, record, temp_dir

# Run in a fresh interpreter: the peak RSS of reading every window of a cohort, in KiB.
_PEAK_RSS = """
import json, resource, sys
from torch.utils.data import DataLoader
from sleep_kd.data.dataset import CohortWindows
data = CohortWindows(sys.argv[1], n_classes=4, modalities=("eeg", "ecg"))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for batch in DataLoader(data, batch_size=64, num_workers=int(sys.argv[2])):
    pass
print(json.dumps({"windows": len(data), "before_kib": before,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def loader_for(path: Path, *, batch: int, workers: int):
    """The training DataLoader the loop would build (shuffled, ECG windows at 100 Hz)."""
    from sleep_kd.data.dataset import CohortWindows
    from sleep_kd.engine.data import EpochShuffleSampler

    data = CohortWindows(path, n_classes=4, sfreq=100.0, modalities=("ecg",))
    return torch.utils.data.DataLoader(data, batch_size=batch, sampler=EpochShuffleSampler(len(data), seed=0),
                                       num_workers=workers, persistent_workers=workers > 0)


def peak_rss(path: Path, workers: int) -> dict:
    """Peak RSS (KiB) of a fresh process iterating every window of ``path``."""
    run = subprocess.run([sys.executable, "-c", _PEAK_RSS, str(path), str(workers)], capture_output=True, text=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
                         check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny cohorts, one round (smoke run)")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers (data.num_workers)")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    small, large = (3, 6) if args.quick else (10, 100)
    hours = 0.1  # the generator's shortest night is 5 min
    figures: dict = {"workers": args.workers, "batch_size": args.batch_size}
    with temp_dir("loader") as tmp:
        paths = {n: make_cohort(Path(tmp) / f"n{n}", n_subjects=n, hours=hours, workers=2) for n in (small, large)}
        loader = loader_for(paths[large], batch=args.batch_size, workers=args.workers)
        step = BareStep("utime_small", batch_size=args.batch_size)
        batches = min(len(loader), 4 if args.quick else 20)

        def load_pass():
            for index, _ in enumerate(loader):
                if index + 1 == batches:
                    break
        times = interleaved({"load": load_pass, "train": step}, rounds=1 if args.quick else 5)
        # load: `batches` batches per call; train: one batch per call.
        ratios = [(batches / a) / (1 / b) for a, b in zip(times["load"], times["train"])]
        figures["loader_over_training"] = round(median(ratios), 1)
        figures["loader_windows_per_s"] = round(batches * args.batch_size / median(times["load"]), 1)
        rss = {n: peak_rss(paths[n], args.workers) for n in (small, large)}
        figures["peak_rss_mib"] = {str(n): round(r["peak_kib"] / 1024, 1) for n, r in rss.items()}
        figures["windows"] = {str(n): r["windows"] for n, r in rss.items()}
        figures["rss_ratio_large_over_small"] = round(rss[large]["peak_kib"] / rss[small]["peak_kib"], 3)
        figures["recordings"] = [small, large]
    return record("loader", figures, quick=args.quick)


if __name__ == "__main__":
    main()
