"""Did distillation help the ECG student? Paired per-seed differences against ecg_base.

For each seed, trains the ECG students (ecg_base, kd_temp, feat_train -> feat_temp, feat_wce)
under one shared frozen EEG teacher, scores each on the test split against the scored labels
and, for synthetic cohorts, against the true stages (``truth/<id>.csv`` beside the cohort), and
prints the mean and spread of each strategy's change against the same seed's ecg_base.

    sleep-kd study kd_seeds --seeds 1 2 3 [--epochs 6] [--data FILE.h5] [--runs runs/seeds]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from sleep_kd.cli.train import TrainOptions, resolve
from sleep_kd.errors import ArgumentParser, InputError, cli_entry
from sleep_kd.studies.common import check_cohort_file, scores_on_split, train_run

STUDENTS = ("ecg_base", "kd_temp", "feat_train", "feat_temp", "feat_wce")
COMPARED = ("kd_temp", "feat_temp", "feat_wce")


def train(strategy: str, out: Path, options: TrainOptions) -> Path:
    """Train one run (a failed one ends the study with its exit status); its best checkpoint."""
    train_run(strategy, out, options, study="kd_seeds")
    return out / "best"


def truth_of(checkpoint: Path) -> Path | None:
    """``truth/`` beside the cohort a checkpoint was trained on (None if there is none)."""
    from sleep_kd.data.preparation import read_preparation
    from sleep_kd.evaluation.truth import truth_beside

    config = json.loads((checkpoint / "config.json").read_text())
    return truth_beside(read_preparation(config, checkpoint=checkpoint).path)


def summarise(results: dict[int, dict[str, dict]], metric: str) -> list[str]:
    lines = []
    for strategy in COMPARED:
        deltas = [results[s][strategy][metric] - results[s]["ecg_base"][metric] for s in results
                  if metric in results[s][strategy]]
        if deltas:
            lines.append(f"  {strategy:<10} {metric:<17} change vs ecg_base: mean {np.mean(deltas):+.4f}, "
                         f"sd {np.std(deltas, ddof=1) if len(deltas) > 1 else 0.0:.4f}, "
                         f"per seed {', '.join(f'{d:+.3f}' for d in deltas)}")
    return lines


def check_plan(args, common: TrainOptions) -> None:
    """Every run's training options and the output locations, checked before the first run trains."""
    from sleep_kd.engine.outputs import check_output_dir, check_output_file

    if args.data is not None:
        check_cohort_file(args.data)
    if len(set(args.seeds)) != len(args.seeds):
        raise InputError(f"--seeds {' '.join(map(str, args.seeds))}: each seed once (a seed's runs share a folder)")
    for seed in args.seeds:
        resolve("ecg_base", common + TrainOptions.of(seed=seed))
    check_output_dir(args.runs, label=f"--runs {args.runs}")
    if args.json:
        check_output_file(args.json, label=f"--json {args.json}")


def seed_runs(folder: Path, seeded: TrainOptions) -> None:
    """The students of one seed, each under the shared teacher (``seeded`` names it)."""
    train("ecg_base", folder / "ecg_base", seeded)
    train("kd_temp", folder / "kd_temp", seeded)
    start = train("feat_train", folder / "feat_train", seeded)
    train("feat_temp", folder / "feat_temp", seeded + TrainOptions.of(init=start))
    train("feat_wce", folder / "feat_wce", seeded + TrainOptions.of(init=start))


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="sleep-kd study kd_seeds", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--runs", default="runs/seeds")
    parser.add_argument("--data", help="HDF5 cohort (default: the embedded synthetic cohort)")
    parser.add_argument("--classes", type=int, default=4, choices=(3, 4))
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--set", action="append", default=[], help="config overrides for every run")
    parser.add_argument("--json", help="write every figure here")
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    runs = Path(args.runs)
    common = TrainOptions.of(*args.set, classes=args.classes, data=args.data, epochs=args.epochs)
    check_plan(args, common)
    teacher = train("eeg_base", runs / "teacher", common + TrainOptions.of(seed=0))
    truth = truth_of(teacher)
    results: dict[int, dict[str, dict]] = {}
    for seed in args.seeds:
        folder = runs / f"seed{seed}"
        seed_runs(folder, common + TrainOptions.of(seed=seed, teacher=teacher))
        results[seed] = {s: scores_on_split(folder / s / "best", truth_dir=truth) for s in ("ecg_base", *COMPARED)}
    teacher_scores = scores_on_split(teacher, truth_dir=truth)
    lines = [f"EEG teacher: kappa {teacher_scores['kappa']:.4f}"
             + (f" (vs true stages {teacher_scores['true_kappa']:.4f})" if "true_kappa" in teacher_scores else "")]
    for seed, by_strategy in results.items():
        lines.append(f"seed {seed}: " + ", ".join(f"{s} kappa {r['kappa']:.3f}" for s, r in by_strategy.items()))
    for metric in ("kappa", "weighted_f1", "true_kappa", "true_weighted_f1"):
        lines += summarise(results, metric)
    print("\n".join(lines))
    if args.json:
        from sleep_kd.engine.outputs import write_text_atomic

        write_text_atomic(args.json, json.dumps({"teacher": teacher_scores, "seeds": results}, indent=2),
                          label=f"--json {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
