"""Command line: ``python -m sleep_kd.data.synthetic --out DIR --subjects N --hours H --seed S``."""

from __future__ import annotations

import argparse
import sys
import time

from sleep_kd.errors import ArgumentParser, cli_entry

from .cohort import generate_cohort


def build_parser(prog: str = "python -m sleep_kd.data.synthetic") -> argparse.ArgumentParser:
    parser = ArgumentParser(prog=prog,
                     description="Write a synthetic PSG cohort laid out like MASS (SS1..SS5 folders, "
                                 "'<id> PSG.edf' + '<id> Base.edf', true hypnograms in truth/).")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--subjects", type=int, required=True, help="number of nights, one per subject")
    parser.add_argument("--hours", type=float, required=True, help="scored length of each night, hours")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")
    parser.add_argument("--sfreq", type=float, default=256.0, help="sampling rate, Hz (default 256, as MASS)")
    parser.add_argument("--workers", type=int, default=1, help="processes to use (default 1)")
    return parser


@cli_entry
def main(argv: list[str] | None = None, *, prog: str = "python -m sleep_kd.data.synthetic") -> int:
    args = build_parser(prog).parse_args(argv)
    began = time.perf_counter()
    paths = generate_cohort(args.out, n_subjects=args.subjects, hours=args.hours, seed=args.seed,
                            sfreq=args.sfreq, workers=args.workers)
    print(f"wrote {len(paths)} nights to {args.out} in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
