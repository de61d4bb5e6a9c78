"""A copy of a synthetic cohort whose scored stages agree with the true ones at a chosen rate (label-noise ablation).

    python scripts/relabel_cohort.py COHORT.h5 --agreement 0.9 --out COHORT-a90.h5 [--truth DIR] [--seed 0]

The generator's scorer agrees with its true stages about 80 % of the time. For the ablation of
issue 14 (agreement 0.7, 0.8, 0.9, 1.0) this copies the cohort file and rewrites only the scored
stage of epochs: to raise agreement, randomly chosen disagreeing epochs get their true stage; to
lower it, randomly chosen agreeing epochs get a stage a human scorer confuses them with (W<->N1,
N1<->N2, N2<->N3, N4->N3, REM->N1 or N2). Unscored and movement epochs stay as they are. The truth
CSVs are copied beside the new file with the new scored stages (``truth/`` next to ``--out``).
Agreement is counted over the epochs scored as a sleep stage in both.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sleep_kd.data.stages import Stage  # noqa: E402
from sleep_kd.data.synthetic.truth import read_truth as read_truth_file  # noqa: E402
from sleep_kd.errors import InputError, cli_entry  # noqa: E402

CONFUSIONS = {Stage.W: (Stage.N1,), Stage.N1: (Stage.W, Stage.N2), Stage.N2: (Stage.N1, Stage.N3),
              Stage.N3: (Stage.N2,), Stage.N4: (Stage.N3,), Stage.R: (Stage.N1, Stage.N2)}


def relabel(scored: np.ndarray, true: np.ndarray, *, agreement: float, rng: np.random.Generator) -> np.ndarray:
    """Scored stages (n,) changed so that ``mean(scored == true)`` over sleep-stage epochs is ``agreement``."""
    scored = scored.copy()
    both = (scored >= 0) & (true >= 0)
    agree = both & (scored == true)
    target = int(round(agreement * both.sum()))
    if target > agree.sum():
        fix = rng.choice(np.flatnonzero(both & ~agree), size=target - int(agree.sum()), replace=False)
        scored[fix] = true[fix]
    elif target < agree.sum():
        spoil = rng.choice(np.flatnonzero(agree), size=int(agree.sum()) - target, replace=False)
        for index in spoil:
            options = CONFUSIONS[Stage(int(true[index]))]
            scored[index] = int(options[rng.integers(len(options))])
    return scored


def read_truth(path: Path) -> tuple[list[dict], np.ndarray, np.ndarray]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    truth = read_truth_file(path)  # the generator's own reader (its digits are R&K stages)
    true, scored = truth.true.astype(np.int64), truth.scored.astype(np.int64)
    return rows, true, scored


@cli_entry
def main(argv: list[str] | None = None) -> int:
    import h5py

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cohort", type=Path)
    parser.add_argument("--agreement", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--truth", type=Path, help="folder of <id>.csv truth files (default: truth/ beside the cohort)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    truth_dir = args.truth or args.cohort.parent / "truth"
    if not 0.0 < args.agreement <= 1.0:
        raise InputError(f"--agreement {args.agreement}: expected a value in (0, 1]")
    if not truth_dir.is_dir():
        raise InputError(f"{truth_dir}: no truth folder (expected <id>.csv files with true_stage, scored_stage)")
    if args.out.resolve() == args.cohort.resolve():
        raise InputError(f"--out {args.out}: must differ from the cohort file")
    rng = np.random.default_rng(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.cohort, args.out)
    out_truth = args.out.parent / "truth"
    out_truth.mkdir(exist_ok=True)
    with h5py.File(args.out, "r+") as handle:
        for rid in sorted(handle["recordings"]):
            path = truth_dir / f"{rid}.csv"
            if not path.is_file():
                raise InputError(f"{path}: no truth file for recording {rid!r}")
            rows, true, scored = read_truth(path)
            stage = handle["recordings"][rid]["epochs"]["stage"]
            if stage.shape[0] != len(rows) or not np.array_equal(stage[()], scored):
                raise InputError(f"{path}: scored stages differ from {args.cohort}'s recording {rid!r}")
            new = relabel(scored, true, agreement=args.agreement, rng=rng)
            stage[...] = new.astype(stage.dtype)
            with (out_truth / f"{rid}.csv").open("w", newline="") as handle_out:
                writer = csv.DictWriter(handle_out, fieldnames=list(rows[0]))
                writer.writeheader()
                for row, value in zip(rows, new):
                    name = Stage(int(value)).name if value >= 0 else row["scored_stage"]
                    writer.writerow({**row, "scored_stage": name})
    print(f"[relabel] {args.out}: scored stages at agreement {args.agreement:g} with the true stages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
