"""What the EEG teacher gives an ECG student: why distillation helps or not.

    sleep-kd study teacher_signal RUNS [--context 20] [--truth DIR] [--temperature 4] [--out FILE.json]

RUNS is a ``sleep-kd study kd_study`` runs folder (``RUNS/fold<f>/context<T>/{eeg_base,ecg_base,kd_temp-*}``).
For every fold, on the teacher's own training subjects (what the student is taught with) and on
the test subjects, with the generator's true stages (``truth/`` beside the cohort):

- how often the scored labels, the teacher and the ECG base agree with the true stages, and
  what the teacher does where the scorer is wrong (``corrects``: the teacher gives the true
  stage where the scored label is wrong; ``spoils``: it leaves the true stage where the label is right);
- the teacher's calibration against the scored labels (expected calibration error, 15 bins of
  the top probability) and how soft its targets are (mean entropy over log(classes), at T=1 and
  at the distillation temperature);
- how far the ECG base already follows the teacher (agreement of their predictions), and each
  distilled student's agreement with the teacher and with the true stages.

Distillation can only move the student toward the teacher's posterior *as far as the ECG shows it*;
with soft targets close to one-hot and a teacher that mostly repeats the labels, the KD target
differs from the hard label on few epochs, and that bounds what it can change.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sleep_kd.errors import ArgumentParser, InputError, cli_entry
from sleep_kd.studies.common import check_context, check_report_path, mean_over_folds, teacher_cohort, write_report

BINS = 15


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """ECE of the top probability (n, C) against labels (n,): mean |accuracy - confidence| over equal-width bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def softened(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / T) from softmax(logits): p^(1/T), renormalised per row."""
    logp = np.log(np.clip(probabilities.astype(np.float64), 1e-30, None)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(axis=1, keepdims=True)


def normalised_entropy(probabilities: np.ndarray) -> float:
    """Mean entropy of the rows (n, C) over log(C): 0 = one-hot, 1 = uniform."""
    p = np.clip(probabilities, 1e-30, 1.0)
    return float((-(p * np.log(p)).sum(axis=1)).mean() / np.log(p.shape[1]))


def scored_with_truth(checkpoint: Path, split: str, truth_dir: Path):
    """(probabilities (n, C), scored (n,), true (n,), key (n,) of (recording, epoch)) of a checkpoint on a split."""
    from sleep_kd.evaluation.scoring import predict_checkpoint
    from sleep_kd.evaluation.truth import true_classes_of_predictions

    predictions, dataset, _, _ = predict_checkpoint(checkpoint, split=split, cpu=True, precision="auto",
                                                    probabilities=True)
    true = true_classes_of_predictions(predictions, dataset, truth_dir)
    key = [f"{dataset.recordings[r]}:{e}" for r, e in zip(predictions.recording, predictions.epoch)]
    return predictions.probabilities, predictions.y_true, true, np.asarray(key)


def aligned(reference_key: np.ndarray, key: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` (n, ...) reordered to follow ``reference_key`` (both the same set of epochs)."""
    order = {k: i for i, k in enumerate(key)}
    if set(order) != set(reference_key.tolist()):
        raise InputError("teacher and student scored different epochs: were they trained on one fold?")
    return values[np.array([order[k] for k in reference_key])]


def fold_signal(folder: Path, split: str, truth_dir: Path, temperature: float) -> dict:
    """The figures of one fold and split (see the module docstring)."""
    from sklearn.metrics import cohen_kappa_score

    p_teacher, scored, true, key = scored_with_truth(folder / "eeg_base" / "best", split, truth_dir)
    kept = true >= 0
    p_teacher, scored, true, key = p_teacher[kept], scored[kept], true[kept], key[kept]
    teacher = p_teacher.argmax(axis=1)
    wrong = scored != true
    out = {"epochs": int(scored.size), "scored_agree_true": float((~wrong).mean()),
           "teacher_agree_scored": float((teacher == scored).mean()),
           "teacher_agree_true": float((teacher == true).mean()),
           "teacher_corrects": float((teacher[wrong] == true[wrong]).mean()) if wrong.any() else float("nan"),
           "teacher_spoils": float((teacher[~wrong] != true[~wrong]).mean()),
           "teacher_ece_vs_scored": expected_calibration_error(p_teacher, scored),
           "teacher_top_probability": float(p_teacher.max(axis=1).mean()),
           "teacher_entropy_t1": normalised_entropy(p_teacher),
           f"teacher_entropy_t{temperature:g}": normalised_entropy(softened(p_teacher, temperature)),
           "teacher_kappa_vs_true": float(cohen_kappa_score(true, teacher))}
    students = {"ecg_base": folder / "ecg_base" / "best",
                **{d.name: d / "best" for d in sorted(folder.glob("kd_temp-*")) if (d / "best").is_dir()}}
    for name, checkpoint in students.items():
        p_student, _, _, student_key = scored_with_truth(checkpoint, split, truth_dir)
        student = aligned(key, student_key[np.isin(student_key, key)],
                          p_student[np.isin(student_key, key)]).argmax(axis=1)
        out[name] = {"agree_teacher": float((student == teacher).mean()),
                     "kappa_vs_teacher": float(cohen_kappa_score(teacher, student)),
                     "kappa_vs_scored": float(cohen_kappa_score(scored, student)),
                     "kappa_vs_true": float(cohen_kappa_score(true, student))}
    return out


def print_table(summary: dict) -> None:
    for split, figures in summary.items():
        print(f"[teacher_signal] {split} subjects, mean over folds:")
        for name, value in figures.items():
            if isinstance(value, dict):
                print("   " + name + ": " + ", ".join(f"{k} {v:.3f}" for k, v in value.items()))
            else:
                print(f"   {name}: {value:.3f}" if name != "epochs" else f"   epochs: {value:.0f}")


@cli_entry
def main(argv: list[str] | None = None) -> int:
    from sleep_kd.engine.schema import check_value

    parser = ArgumentParser(prog="sleep-kd study teacher_signal", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, help="a kd_study runs folder")
    parser.add_argument("--context", type=int, default=20, help="the context length to read (0 = one window)")
    parser.add_argument("--truth", type=Path, help="folder of <id>.csv true stages (default: beside the cohort)")
    parser.add_argument("--temperature", type=float, default=4.0, help="the distillation temperature")
    parser.add_argument("--splits", nargs="+", default=["train", "test"], choices=["train", "val", "test"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    check_value("loss.sd.temperature", args.temperature, origin="--temperature")
    check_context(args.context)
    if not args.runs.is_dir():
        raise InputError(f"{args.runs}: no such folder (a kd_study runs folder)")
    check_report_path(args.out)
    folders = sorted(p / f"context{args.context}" for p in args.runs.glob("fold*")
                     if (p / f"context{args.context}" / "eeg_base" / "best").is_dir())
    if not folders:
        raise InputError(f"{args.runs}: no fold*/context{args.context}/eeg_base/best (a kd_study runs folder?)")
    if args.truth is None:
        args.truth = teacher_cohort(folders[0]).parent / "truth"
    if not args.truth.is_dir():
        raise InputError(f"--truth {args.truth}: no such folder")
    per_split = {split: [fold_signal(f, split, args.truth, args.temperature) for f in folders]
                 for split in args.splits}
    summary = {split: mean_over_folds(rows) for split, rows in per_split.items()}
    print_table(summary)
    if args.out:
        write_report(args.out, "teacher_signal", argv, folders, per_fold=per_split, summary=summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
