"""Did distillation help the ECG student? Paired per-seed differences against ecg_base.

For each seed, trains the ECG students (ecg_base, kd_temp, feat_train -> feat_temp, feat_wce)
under one shared frozen EEG teacher, scores each on the test split against the scored labels
and, for synthetic cohorts, against the true stages (``truth/<id>.csv`` beside the cohort), and
prints the mean and spread of each strategy's change against the same seed's ecg_base.

    python scripts/kd_seeds.py --seeds 1 2 3 [--epochs 6] [--data FILE.h5] [--runs runs/seeds]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import train_loop  # noqa: E402
from sleep_kd.data.cohort_file import open_cohort, read_epochs, recording_attrs  # noqa: E402
from sleep_kd.data.stages import to_classes  # noqa: E402
from sleep_kd.data.synthetic.truth import read_truth  # noqa: E402
from sleep_kd.errors import ArgumentParser, InputError, cli_entry  # noqa: E402
from sleep_kd.evaluation.scoring import predict_checkpoint  # noqa: E402
from sleep_kd.metrics.scores import summary_scores  # noqa: E402

STUDENTS = ("ecg_base", "kd_temp", "feat_train", "feat_temp", "feat_wce")
COMPARED = ("kd_temp", "feat_temp", "feat_wce")


def train(strategy: str, out: Path, common: list[str], *extra: str) -> Path:
    code = train_loop.main(["--strategy", strategy, "--out", str(out), *common, *extra])
    if code != 0:  # train_loop has said why in one line; its exit code (2 bad input, 130 interrupted) is ours
        print(f"[kd_seeds] training {strategy} into {out} stopped with exit code {code}", file=sys.stderr)
        raise SystemExit(code)
    return out / "best"


def true_labels(predictions, dataset, n_classes: int) -> np.ndarray | None:
    """The true class of every predicted epoch, from the generator's truth files (None if absent)."""
    truth_dir = dataset.path.parent / "truth"
    if not truth_dir.is_dir():
        return None
    labels = np.full(predictions.y_true.shape, -1, dtype=np.int64)
    with open_cohort(dataset.path) as handle:
        for rec in np.unique(predictions.recording):
            rid = dataset.recordings[rec]
            truth = read_truth(truth_dir / f"{rid}.csv")
            by_onset = {round(float(o), 2): t for o, t in zip(truth.onset_s, truth.true)}
            onsets = read_epochs(handle, rid).onset + float(recording_attrs(handle, rid)["start_offset_s"])
            mask = predictions.recording == rec
            stages = [by_onset[round(float(o), 2)] for o in onsets[predictions.epoch[mask]]]
            labels[mask] = to_classes(np.asarray(stages, dtype=np.int8), n_classes)
    return labels


def score(checkpoint: Path, n_classes: int) -> dict:
    predictions, dataset, _, _ = predict_checkpoint(checkpoint, split="test", cpu=True)
    result = {f"{k}": v for k, v in summary_scores(predictions.y_true, predictions.y_pred, n_classes).items()}
    truth = true_labels(predictions, dataset, n_classes)
    if truth is not None:
        keep = truth >= 0
        result.update({f"true_{k}": v for k, v in summary_scores(truth[keep], predictions.y_pred[keep],
                                                                  n_classes).items()})
    return result


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


def check_plan(args, common: list[str]) -> None:
    """Every run's train_loop arguments and the output locations, checked before the first run trains."""
    from sleep_kd.engine.outputs import check_output_dir, check_output_file

    if args.data is not None and not Path(args.data).is_file():
        raise InputError(f"--data {args.data}: no such cohort file")
    if len(set(args.seeds)) != len(args.seeds):
        raise InputError(f"--seeds {' '.join(map(str, args.seeds))}: each seed once (a seed's runs share a folder)")
    for seed in args.seeds:
        train_loop.resolved(["--strategy", "ecg_base", *common, "--seed", str(seed)])
    check_output_dir(args.runs, label=f"--runs {args.runs}")
    if args.json:
        check_output_file(args.json, label=f"--json {args.json}")


@cli_entry
def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="kd_seeds.py", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--runs", default="runs/seeds")
    parser.add_argument("--data", help="HDF5 cohort (default: the embedded synthetic cohort)")
    parser.add_argument("--classes", type=int, default=4, choices=(3, 4))
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--set", action="append", default=[], help="config overrides for every run")
    parser.add_argument("--json", help="write every figure here")
    args = parser.parse_args(argv)
    runs = Path(args.runs)
    common = ["--classes", str(args.classes), *(["--data", args.data] if args.data else []),
              *(["--epochs", str(args.epochs)] if args.epochs is not None else []),
              *sum((["--set", s] for s in args.set), [])]
    check_plan(args, common)
    teacher = train("eeg_base", runs / "teacher", common, "--seed", "0")
    results: dict[int, dict[str, dict]] = {}
    for seed in args.seeds:
        folder, seeded = runs / f"seed{seed}", [*common, "--seed", str(seed), "--teacher", str(teacher)]
        train("ecg_base", folder / "ecg_base", seeded)
        train("kd_temp", folder / "kd_temp", seeded)
        start = train("feat_train", folder / "feat_train", seeded)
        train("feat_temp", folder / "feat_temp", seeded, "--init", str(start))
        train("feat_wce", folder / "feat_wce", seeded, "--init", str(start))
        results[seed] = {s: score(folder / s / "best", args.classes) for s in ("ecg_base", *COMPARED)}
    teacher_scores = score(teacher, args.classes)
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
