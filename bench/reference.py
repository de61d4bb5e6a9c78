"""The reference pipeline (heart-rate features + logistic regression) on a cohort file, and its calibration table.

    python -m bench.reference [COHORT.h5] [--truth DIR] [--folds 5]

Without a file it builds (once) and uses the embedded default cohort. Prints the table (kappa of
heart-rate features and of EEG band powers, epoch alone and with +-5 epochs, on the scored and
the true stages; per-stage heart-rate offsets and within-stage SD; stage shares), the machine,
and one JSON line (also appended to bench/results.jsonl).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from sleep_kd.baselines import calibration_table, run_reference
from sleep_kd.errors import cli_entry

ROOT = Path(__file__).resolve().parent.parent


def cpu() -> str:
    """CPU model and the vector flags that matter for speed figures."""
    model, flags = platform.processor() or "unknown", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                flags = " ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in have)
                break
    except OSError:
        pass
    return f"{model} [{flags}], {os.cpu_count()} logical cores"


@cli_entry
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cohort", nargs="?", help="cohort HDF5 file (default: the embedded default cohort)")
    parser.add_argument("--truth", help="folder of <id>.csv true hypnograms (default: truth/ beside the file)")
    parser.add_argument("--folds", type=int, default=5, help="subject-wise folds (default 5)")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/results.jsonl")
    args = parser.parse_args(argv)
    if args.cohort is None:
        from sleep_kd.data.default_cohort import ensure_default_cohort
        args.cohort = ensure_default_cohort()
    began = time.perf_counter()
    result = run_reference(args.cohort, truth_dir=args.truth, n_folds=args.folds)
    seconds = time.perf_counter() - began
    print(calibration_table(result))
    print(f"\nmachine: {cpu()}; {seconds:.0f} s")
    line = {"bench": "reference", "cpu": cpu(), "seconds": round(seconds, 1), **result}
    print(json.dumps(line))
    if not args.no_record:
        results = Path(os.environ.get("SLEEP_KD_BENCH_RESULTS", ROOT / "bench" / "results.jsonl"))
        with results.open("a") as f:
            f.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
