"""A copy of a synthetic cohort whose scored stages agree with the true ones at a chosen rate (label-noise ablation).

    sleep-kd study relabel_cohort COHORT.h5 --agreement 0.9 --out COHORT-a90.h5 [--truth DIR] [--seed 0]

The generator's scorer agrees with its true stages about 80 % of the time. For the label-noise
ablation (agreement 0.7, 0.8, 0.9, 1.0) this copies the cohort file and rewrites only the scored
stage of epochs: to raise agreement, randomly chosen disagreeing epochs get their true stage; to
lower it, randomly chosen agreeing epochs get a stage a human scorer confuses them with (W<->N1,
N1<->N2, N2<->N3, N4->N3, REM->N1 or N2). Unscored and movement epochs stay as they are. The truth
CSVs are copied beside the new file with the new scored stages (``truth/`` next to ``--out``).
Agreement is counted over the epochs scored as a sleep stage in both.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np

from sleep_kd.data.stages import Stage
from sleep_kd.data.synthetic.truth import read_truth as read_truth_file
from sleep_kd.errors import ArgumentParser, InputError, cli_entry

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


def check_arguments(args) -> Path:
    """Refuse bad arguments before anything is read or written; the truth folder to read."""
    from sleep_kd.engine.outputs import check_output_dir

    truth_dir = args.truth or args.cohort.parent / "truth"
    if not args.cohort.is_file():
        raise InputError(f"{args.cohort}: no such cohort file")
    if not 0.0 < args.agreement <= 1.0:  # NaN fails it too
        raise InputError(f"--agreement {args.agreement}: expected a value in (0, 1]")
    if args.seed < 0:
        raise InputError(f"--seed {args.seed}: expected an integer >= 0")
    if not truth_dir.is_dir():
        raise InputError(f"{truth_dir}: no truth folder (expected <id>.csv files with true_stage, scored_stage)")
    if args.out.is_dir():
        raise InputError(f"--out {args.out}: is a folder, expected a file name (COHORT.h5)")
    if args.out.resolve() == args.cohort.resolve():
        raise InputError(f"--out {args.out}: must differ from the cohort file")
    if (args.out.parent / "truth").resolve() == truth_dir.resolve():
        raise InputError(f"--out {args.out}: its truth/ folder would be the source's {truth_dir}, whose files "
                         "would be overwritten; put --out in another folder")
    check_output_dir(args.out.parent, label=f"--out {args.out}")
    return truth_dir


def relabelled(cohort: Path, truth_dir: Path, *, agreement: float, seed: int) -> dict[str, tuple]:
    """Per recording: (truth CSV rows, new scored stages), every file checked before anything is written."""
    import h5py

    rng = np.random.default_rng(seed)
    plan = {}
    with h5py.File(cohort, "r") as handle:
        for rid in sorted(handle["recordings"]):
            path = truth_dir / f"{rid}.csv"
            if not path.is_file():
                raise InputError(f"{path}: no truth file for recording {rid!r}")
            rows, true, scored = read_truth(path)
            stage = handle["recordings"][rid]["epochs"]["stage"][()]
            if stage.shape[0] != len(rows) or not np.array_equal(stage, scored):
                raise InputError(f"{path}: scored stages differ from {cohort}'s recording {rid!r}")
            plan[rid] = (rows, relabel(scored, true, agreement=agreement, rng=rng))
    return plan


@cli_entry
def main(argv: list[str] | None = None) -> int:
    import h5py

    parser = ArgumentParser(prog="sleep-kd study relabel_cohort", description=__doc__.split("\n\n")[0])
    parser.add_argument("cohort", type=Path)
    parser.add_argument("--agreement", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--truth", type=Path, help="folder of <id>.csv truth files (default: truth/ beside the cohort)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    truth_dir = check_arguments(args)
    plan = relabelled(args.cohort, truth_dir, agreement=args.agreement, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")  # the new cohort appears whole or not at all
    shutil.copyfile(args.cohort, tmp)
    with h5py.File(tmp, "r+") as handle:
        for rid, (_, new) in plan.items():
            stage = handle["recordings"][rid]["epochs"]["stage"]
            stage[...] = new.astype(stage.dtype)
    out_truth = args.out.parent / "truth"
    out_truth.mkdir(exist_ok=True)
    for rid, (rows, new) in plan.items():
        with (out_truth / f"{rid}.csv").open("w", newline="") as handle_out:
            writer = csv.DictWriter(handle_out, fieldnames=list(rows[0]))
            writer.writeheader()
            for row, value in zip(rows, new):
                name = Stage(int(value)).name if value >= 0 else row["scored_stage"]
                writer.writerow({**row, "scored_stage": name})
    tmp.replace(args.out)
    print(f"[relabel] {args.out}: scored stages at agreement {args.agreement:g} with the true stages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
