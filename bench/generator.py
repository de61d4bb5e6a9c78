"""Speed of the synthetic generator per hour of signal, against an earlier copy of it.

    python -m bench.generator [--hours 1] [--rounds 3] [--baseline DIR]

Times ``simulate_night`` (one SS1 night at 256 Hz, the cohort's EDF rate) of this checkout and,
with ``--baseline DIR`` (a folder holding an earlier ``synthetic`` package copied as
``DIR/synth_old``, e.g. ``git archive <rev> sleep_kd/data/synthetic``), of the earlier code,
interleaved round by round; prints seconds per hour of signal of each and the median of the
per-round ratios (new / old), with the CPU. The machine is shared: only the ratio is a figure.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from pathlib import Path

from bench.reference import cpu

BASELINE = "synth_old"  # the earlier package's name inside --baseline DIR


def _timer(package, hours: float):
    night = importlib.import_module(f"{package}.night")

    def run() -> float:
        began = time.perf_counter()
        night.simulate_night(night.plan_night(0), seed=1, hours=hours, sfreq=256.0)
        return time.perf_counter() - began
    return run


def import_baseline(folder: Path) -> None:
    """Import ``folder/synth_old`` as the package ``synth_old`` (its modules then import as ``synth_old.x``)."""
    import importlib.util

    init = folder / BASELINE / "__init__.py"
    if not init.is_file():
        raise SystemExit(f"--baseline {folder}: no {BASELINE}/__init__.py there")
    spec = importlib.util.spec_from_file_location(BASELINE, init, submodule_search_locations=[str(init.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[BASELINE] = module
    spec.loader.exec_module(module)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", help="folder holding the earlier package as synth_old/")
    args = parser.parse_args(argv)
    sides = {"new": _timer("sleep_kd.data.synthetic", args.hours)}
    if args.baseline:
        import_baseline(Path(args.baseline).resolve())
        sides["old"] = _timer(BASELINE, args.hours)
    for run in sides.values():  # warm-up: imports, FFT plans
        run()
    seconds = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, run in sides.items():
            seconds[name].append(run() / args.hours)
    line = {"bench": "generator", "hours": args.hours, "rounds": args.rounds, "cpu": cpu(),
            "s_per_hour": {k: round(statistics.median(v), 2) for k, v in seconds.items()}}
    if "old" in seconds:
        line["ratio_new_over_old"] = round(statistics.median(a / b for a, b in zip(seconds["new"], seconds["old"])), 3)
    for name, values in seconds.items():
        print(f"{name}: {statistics.median(values):.2f} s per hour of signal (rounds: "
              + ", ".join(f"{v:.2f}" for v in values) + ")")
    if "ratio_new_over_old" in line:
        print(f"new / old: {line['ratio_new_over_old']:.3f} (median of per-round ratios)")
    print(f"machine: {cpu()}")
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
