"""Where the EEG teacher pays: the ECG student on a label budget of K scored training subjects.

    sleep-kd study label_budget --data COHORT.h5 [--truth DIR] [--folds 4] [--budgets 2 4 8 16 0]
        [--contexts 0 20] [--causal-budgets 4 0] [--one-window-arms ...] [--epochs 3] [--set KEY=VALUE ...]
        [--runs DIR] [--out results/label_budget.json] [--only-folds 0 1] [--report-only]

Subject-wise k-fold (test = fold f, validation = fold f+1, training = the rest). In each fold and
for each budget K (``data.scored_subjects``; 0 = every training subject), the training subjects
other than the K keep their nights but lose their stages, as in an archive nobody scored. Arms,
all on the same K, the same folds and the same budget of training windows:

- ``eeg_base``: the EEG teacher, trained on the K scored subjects;
- ``ecg_base``: the ECG student on the K scored subjects (the control every other arm is paired with);
- ``ecg_self``: the fold's frozen ``ecg_base`` teaches a fresh ECG student with ``sd`` over every
  training night, scored or not (self-training: what more nights add without the EEG);
- ``kd_temp``: the frozen EEG teacher teaches the ECG student with ``sd`` over every training night.

At every context length (0 = one window; T = ``context_small`` over T epochs, each run's encoder
started from the same fold and K's one-window run, as ``kd_study`` does), and for the budgets
in ``--causal-budgets`` also with the real-time (causal) student of context T (``--causal-set``),
taught by the bidirectional teachers. Scores on the test fold (always fully scored): kappa against
the scored and, with truth files, the true stages, and per-stage F1. The change of ``kd_temp``
against ``ecg_base`` and against ``ecg_self``, per K and context, is the mean over folds with its
95 % t interval. Every (fold, K, context) row is kept beside its runs with the settings that made
it, so a later call with the same settings reuses it: the study can run in pieces.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sleep_kd.cli.train import TrainOptions
from sleep_kd.errors import ArgumentParser, InputError, cli_entry
from sleep_kd.studies.common import (METRICS, check_cohort_file, command_line, interval, machine, scores_on_split,
                                    train_run)

ARMS = ("ecg_base", "ecg_self", "kd_temp")
STAGES = ("Light", "Deep", "REM")
CAUSAL_DEFAULT = "model.overrides.sequence=tcn_causal"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(prog="sleep-kd study label_budget", description=__doc__.split("\n\n")[1],
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="cohort HDF5 file")
    parser.add_argument("--truth", type=Path, help="folder of <id>.csv true stages (default: truth/ beside --data)")
    parser.add_argument("--folds", type=int, default=4, help="subject-wise folds, k >= 3 (default 4)")
    parser.add_argument("--budgets", type=int, nargs="+", default=[2, 4, 8, 16, 0],
                        help="scored training subjects K (0 = all)")
    parser.add_argument("--contexts", type=int, nargs="+", default=[0, 20], help="0 = one window; T = T epochs")
    parser.add_argument("--causal-budgets", type=int, nargs="*", default=[4, 0],
                        help="budgets also run with the causal student at each context T > 0")
    parser.add_argument("--causal-set", default=CAUSAL_DEFAULT, help="the --set that makes a context model causal")
    parser.add_argument("--one-window-arms", nargs="+", choices=ARMS, default=list(ARMS),
                        help="arms also trained and scored with one window (ecg_base always: it warm-starts the "
                             "context runs; default all)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="for every run")
    parser.add_argument("--runs", type=Path, default=Path("runs/label_budget"))
    parser.add_argument("--out", type=Path, default=Path("results/label_budget.json"))
    parser.add_argument("--only-folds", type=int, nargs="+", help="run these folds only (a partial study)")
    parser.add_argument("--report-only", action="store_true",
                        help="train nothing: write the result from the rows already kept, naming the pieces missing")
    args = parser.parse_args(argv)
    check_args(args)
    return args


def check_args(args: argparse.Namespace) -> None:
    """Every argument checked before any training (one line, exit 2)."""
    check_cohort_file(args.data)
    if args.folds < 3:
        raise InputError(f"--folds must be at least 3, got {args.folds}")
    for name in ("budgets", "contexts", "causal_budgets"):
        bad = [v for v in getattr(args, name) if v < 0]
        if bad:
            raise InputError(f"--{name.replace('_', '-')} takes numbers >= 0, got {bad[0]}")
    if set(args.causal_budgets) - set(args.budgets):
        raise InputError(f"--causal-budgets {sorted(set(args.causal_budgets) - set(args.budgets))} are not among "
                         f"--budgets {args.budgets}")
    if args.epochs < 1:
        raise InputError(f"--epochs must be at least 1, got {args.epochs}")
    if "=" not in args.causal_set:
        raise InputError(f"--causal-set {args.causal_set!r}: expected KEY=VALUE")
    if args.out.is_dir():
        raise InputError(f"--out {args.out}: is a folder; expected a .json file path")
    if args.only_folds and any(not 0 <= f < args.folds for f in args.only_folds):
        raise InputError(f"--only-folds {args.only_folds}: folds run from 0 to {args.folds - 1}")


def piece_folder(runs: Path, fold: int, budget: int, context: int, causal: bool = False) -> Path:
    """The runs of one fold, budget and context: ``RUNS/fold<f>/K<k|all>/context<T>[/bidirectional|/causal]``."""
    folder = runs / f"fold{fold}" / f"K{budget or 'all'}" / f"context{context}"
    return folder / ("causal" if causal else "bidirectional") if context else folder


def teacher_scores(args, pieces: list[tuple[int, int, int]]) -> list[dict]:
    """The EEG teacher's best validation kappa per (fold, K, context) run whose checkpoint is still there.

    Validation is the same subjects for every K of a fold, so these compare across K; a piece
    whose runs were removed (only its kept rows left) has no entry.
    """
    found = []
    for fold, budget, context in pieces:
        metrics = piece_folder(args.runs, fold, budget, context) / "eeg_base" / "best" / "metrics.json"
        if metrics.is_file():
            found.append({"fold": fold, "budget": budget, "context_epochs": context,
                          "val_kappa": json.loads(metrics.read_text())["kappa"]})
    return found


def arm_rows(args, fold: int, budget: int, context: int, causal: bool) -> list[dict] | None:
    """Train (or reuse) the arms of one fold, budget and context; one row per arm with its test scores.
    With ``--report-only``, None where the piece has not been run with these settings."""
    folder = piece_folder(args.runs, fold, budget, context, causal)
    settings = {"data": str(args.data), "folds": args.folds, "fold": fold, "budget": budget, "context": context,
                "causal": causal, "causal_set": args.causal_set if causal else None, "epochs": args.epochs,
                "set": args.set}
    arms = ARMS if context else tuple(arm for arm in ARMS if arm == "ecg_base" or arm in args.one_window_arms)
    if not context and set(arms) != set(ARMS):
        settings["arms"] = list(arms)
    saved = folder / "rows.json"
    if saved.is_file() and json.loads(saved.read_text()).get("settings") == settings:
        return json.loads(saved.read_text())["rows"]
    if args.report_only:
        return None
    base = TrainOptions.of("data.split=kfold", f"data.folds={args.folds}", f"data.fold={fold}",
                           f"data.scored_subjects={budget}", *args.set, data=args.data, epochs=args.epochs)
    one_window = piece_folder(args.runs, fold, budget, 0)
    if context:
        base += TrainOptions.of(f"model.context_epochs={context}", model="context_small")
    student_extra = TrainOptions.of(args.causal_set) if causal else TrainOptions()
    start = time.perf_counter()
    teachers = {"kd_temp": folder / "eeg_base", "ecg_self": folder / "ecg_base"}
    if causal:  # the teachers stay bidirectional: they may see the future
        bidirectional = folder.parent / "bidirectional"
        teachers = {"kd_temp": bidirectional / "eeg_base", "ecg_self": bidirectional / "ecg_base"}
    else:
        train_run("eeg_base", folder / "eeg_base", base + warm_start(one_window / "eeg_base", context),
                  study="label_budget")
    rows = []
    for arm in arms:
        teacher = TrainOptions.of(teacher=teachers[arm] / "best") if arm in teachers else TrainOptions()
        options = base + warm_start(one_window / "ecg_base", context) + teacher + student_extra
        metrics = train_run(arm, folder / arm, options, study="label_budget")
        rows.append({"fold": fold, "budget": budget, "context_epochs": context, "causal": causal, "strategy": arm,
                     "val_kappa": metrics.get("kappa"), "test": test_scores(folder / arm / "best", args)})
    for row in rows:
        row["fold_seconds"] = (time.perf_counter() - start) / len(rows)
    saved.write_text(json.dumps({"settings": settings, "rows": rows}, indent=1) + "\n")
    return rows


def warm_start(one_window_run: Path, context: int) -> TrainOptions:
    """A context run's encoder starts from the same fold and K's one-window run; a one-window run from nothing."""
    return TrainOptions.of(f"paths.encoder_init={one_window_run / 'best'}") if context else TrainOptions()


def test_scores(checkpoint: Path, args) -> dict:
    """Kappa (scored and true stages) and per-stage F1 of a checkpoint on its test fold (one pass)."""
    truth = args.truth if args.truth is not None else args.data.parent / "truth"
    return scores_on_split(checkpoint, truth_dir=truth if truth.is_dir() else None, keys=METRICS, stages=STAGES)


def paired_changes(rows: list[dict]) -> list[dict]:
    """Per budget, context and form: kd_temp minus ecg_base and minus ecg_self, over folds."""
    out = []
    keys = sorted({(r["budget"], r["context_epochs"], r["causal"]) for r in rows})
    for budget, context, causal in keys:
        mine = [r for r in rows if (r["budget"], r["context_epochs"], r["causal"]) == (budget, context, causal)]
        by_arm = {arm: {r["fold"]: r["test"] for r in mine if r["strategy"] == arm} for arm in ARMS}
        entry = {"budget": budget, "context_epochs": context, "causal": causal,
                 "arms": {arm: {score: interval([t[score] for t in tests.values()])
                                for score in ("kappa", "true_kappa", *(f"f1_{s}" for s in STAGES))
                                if tests and all(score in t for t in tests.values())}
                          for arm, tests in by_arm.items() if tests}}
        for control in ("ecg_base", "ecg_self"):
            folds = sorted(set(by_arm["kd_temp"]) & set(by_arm[control]))
            for score in ("kappa", "true_kappa"):
                if folds and all(score in by_arm[a][f] for a in ("kd_temp", control) for f in folds):
                    entry[f"kd_temp_minus_{control}_{score}"] = interval(
                        [by_arm["kd_temp"][f][score] - by_arm[control][f][score] for f in folds])
        out.append(entry)
    return out


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    rows, missing = [], []
    for fold in args.only_folds or range(args.folds):
        for budget in args.budgets:
            for context in args.contexts:
                for causal in (False, True) if context and budget in args.causal_budgets else (False,):
                    piece = arm_rows(args, fold, budget, context, causal=causal)
                    if piece is None:
                        missing.append({"fold": fold, "budget": budget, "context_epochs": context, "causal": causal})
                    else:
                        rows += piece
    result = {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "report_only"},
              "command": command_line("label_budget", argv), "machine": machine(), "seconds": time.perf_counter() - start,
              # each row's fold_seconds is its piece's training time shared over the piece's rows
              "train_seconds": sum(row["fold_seconds"] for row in rows),
              "rows": rows, "changes": paired_changes(rows),
              "teachers": teacher_scores(args, sorted({(r["fold"], r["budget"], r["context_epochs"]) for r in rows})),
              "missing": missing}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for entry in result["changes"]:
        change = entry.get("kd_temp_minus_ecg_base_kappa")
        if change is not None:
            form = "one window" if not entry["context_epochs"] else (
                f"context {entry['context_epochs']}" + (" causal" if entry["causal"] else ""))
            print(f"K={entry['budget'] or 'all'} {form}: kd_temp - ecg_base kappa {change['mean']:+.3f} "
                  f"[{change['low']:+.3f}, {change['high']:+.3f}] over {change['n']} folds")
    if missing:
        print(f"{len(missing)} pieces not run yet with these settings (listed under 'missing'), e.g. fold "
              f"{missing[0]['fold']} K={missing[0]['budget'] or 'all'} context {missing[0]['context_epochs']}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
