"""Does the EEG teacher help the ECG student, with and without night context?

    sleep-kd study kd_study --data COHORT.h5 [--truth DIR] [--folds 5] [--contexts 0 20] [--epochs 4]
        [--grid sd.temperature=1,4 --grid sd.alpha=0.5,0.9] [--set KEY=VALUE ...] [--out results/kd_study.json]
        [--students ecg_base kd_temp ...] [--one-window-students ecg_base] [--only-folds 0 1] [--no-warm-start]

Subject-wise k-fold cross-validation (``data.split: kfold``: test = fold f, validation = fold f+1,
training = the rest). In every fold and for every context length (0 = one window, T = T epochs
with ``context_small``): the EEG teacher (``eeg_base``), ``ecg_base``, ``kd_temp``, ``feat_train``
then ``feat_temp`` and ``feat_wce``, the teacher having the student's context. Distillation options
in ``--grid`` are tried for the terms that use them (``sd.*``: kd_temp, feat_temp; ``at.*``:
feat_train); the value kept is the one with the best *validation* kappa of that fold (feat_train:
the best validation kappa of the feat_wce trained from it), and only then is the test fold scored.
Every student is paired with the same fold's ``ecg_base`` of the same context: the change is its
mean over folds with a 95 % t interval. Scores on the test subjects: kappa, weighted and macro F1
against the scored stages and, with truth files (``truth/<id>.csv`` beside the cohort, as the
generator writes them), against the true stages. The reference pipeline (``sleep_kd.baselines``)
gives the first row when it is installed.

A context run starts its per-epoch encoder from the same fold's one-window run (``--warm-start``,
the default: the EEG teacher from the one-window ``eeg_base``, the ECG students from the one-window
``ecg_base``; ``paths.encoder_init``), since an ECG context model trained from scratch sits at the
class prior for its first ~30,000 windows (docs/, the night-context page). The context rows therefore
cost the one-window ``ecg_base``'s training on top of their own: the tables say so.

``--students`` limits the students (``--one-window-students`` at context 0; the teacher is trained
only for students that need it). Each fold's rows are kept beside its runs with the settings
that made them, so a study can be run in pieces (``--only-folds``) and a later call with the same
settings reuses them instead of training again.

Results go to one JSON file; ``sleep-kd study study_tables`` turns it into the results tables.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sleep_kd.cli.train import TrainOptions, resolve
from sleep_kd.errors import ArgumentParser, InputError, cli_entry
from sleep_kd.studies.common import METRICS, check_cohort_file, command_line, machine, scores_on_split, train_run
from sleep_kd.studies.grid import candidates, loss_options, parse_grid
from sleep_kd.studies.kd_summary import STUDENTS, summarise

PROG = "sleep-kd study kd_study"


def students_for(context: int, args) -> tuple[str, ...]:
    """The students trained at one context length (``--one-window-students`` for context 0)."""
    chosen = args.one_window_students if context == 0 and args.one_window_students else args.students
    return tuple(s for s in STUDENTS if s in chosen)


def needs_teacher(context: int, args) -> bool:
    """Whether a fold trains the EEG teacher at this context length: a student here learns from
    it, or (warm start, context 0) a context teacher will start its encoder from this one."""
    def learns(c: int) -> bool:
        return bool(set(students_for(c, args)) - {"ecg_base"})

    later = context == 0 and args.warm_start and any(learns(c) for c in args.contexts if c)
    return learns(context) or later


def cached_fold(fold: int, context: int, args, grid: dict[str, list[str]]) -> list[dict]:
    """:func:`run_fold`, or its rows from an earlier call with the same settings (a study in pieces).

    The rows are kept in ``<runs>/fold<f>/context<T>/rows.json`` with a key of every argument that
    shapes the runs; another key trains the fold again.
    """
    key = {"data": str(args.data), "folds": args.folds, "epochs": args.epochs, "set": args.set, "grid": grid,
           "students": students_for(context, args), "mixed_precision": args.mixed_precision,
           "warm_start": bool(args.warm_start and context)}
    cache = args.runs / f"fold{fold}" / f"context{context}" / "rows.json"
    if cache.is_file():
        kept = json.loads(cache.read_text())
        if kept.get("key") == json.loads(json.dumps(key)):
            print(f"[kd_study] fold {fold}, context {context}: the rows of an earlier call with the same settings")
            return kept["rows"]
    began = time.perf_counter()
    rows = run_fold(fold, context, args, grid)
    for row in rows:
        row["fold_seconds"] = time.perf_counter() - began
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"key": key, "rows": rows}, indent=1, default=str) + "\n")
    return rows


def run_fold(fold: int, context: int, args, grid: dict[str, list[str]]) -> list[dict]:
    """Every chosen strategy of one fold and context length; one result row per strategy."""
    results = []
    for strategy, row in trained_fold(fold, context, args, grid).items():
        result = {"fold": fold, "context_epochs": context, "strategy": strategy, "options": row["options"],
                  "val_kappa": row["val"]["kappa"], "val_history": val_history(row["checkpoint"].parent),
                  "test": test_scores(row["checkpoint"], args)}
        if len(row.get("tried", [])) > 1:  # every option's test scores, for the analysis only (chosen on val)
            result["tried"] = [{"options": c["options"], "val_kappa": c["val_kappa"],
                                "test": test_scores(c["checkpoint"], args)} for c in row["tried"]]
        results.append(result)
    return results


def trained_fold(fold: int, context: int, args, grid: dict[str, list[str]]) -> dict[str, dict]:
    """Train one fold and context length: per strategy its best validation metrics, options and checkpoint."""
    folder = args.runs / f"fold{fold}" / f"context{context}"
    students = students_for(context, args)
    base = run_options(fold, context, args)
    teacher = folder / "eeg_base"
    eeg_start, ecg_start = warm_starts(fold, context, args)
    rows = {}
    if needs_teacher(context, args):  # a teacher only for students that learn from one
        rows["eeg_base"] = {"val": train_run("eeg_base", teacher, base + eeg_start, study="kd_study"),
                            "options": {}, "checkpoint": teacher / "best"}
    taught = TrainOptions.of(teacher=teacher / "best")
    rows["ecg_base"] = {"val": train_run("ecg_base", folder / "ecg_base", base + ecg_start, study="kd_study"),
                        "options": {}, "checkpoint": folder / "ecg_base" / "best"}
    if "kd_temp" in students:
        rows["kd_temp"] = choose("kd_temp", folder, base + taught + ecg_start, candidates(grid, "sd"))
    if {"feat_train", "feat_wce", "feat_temp"} & set(students):
        rows["feat_train"], rows["feat_wce"] = feature_chain(folder, base + taught + ecg_start, base, grid)
        if "feat_temp" in students:
            started = TrainOptions.of(init=rows["feat_train"]["checkpoint"])
            rows["feat_temp"] = choose("feat_temp", folder, base + taught + started, candidates(grid, "sd"))
    return rows


def feature_chain(folder: Path, taught: TrainOptions, base: TrainOptions, grid: dict) -> tuple[dict, dict]:
    """feat_train per ``at`` option, each followed by its feat_wce: the rows of the option whose
    feat_wce has the best validation kappa (feat_train's options are judged by what they start)."""
    best_wce, best_train = None, None
    for number, options in enumerate(candidates(grid, "at")):
        start = folder / f"feat_train-{number}"
        train_run("feat_train", start, taught + loss_options(options), study="kd_study")
        wce_val = train_run("feat_wce", folder / f"feat_wce-{number}", base + TrainOptions.of(init=start / "best"),
                            study="kd_study")
        if best_wce is None or wce_val["kappa"] > best_wce["val"]["kappa"]:
            best_wce = {"val": wce_val, "options": options, "checkpoint": folder / f"feat_wce-{number}" / "best"}
            best_train = {"val": json.loads((start / "best" / "metrics.json").read_text()), "options": options,
                          "checkpoint": start / "best"}
    return best_train, best_wce


def choose(strategy: str, folder: Path, options: TrainOptions, options_list: list[dict]) -> dict:
    """Train every candidate; keep the one with the best validation kappa (``tried``: all of them)."""
    best, tried = None, []
    for number, candidate in enumerate(options_list):
        out = folder / f"{strategy}-{number}"
        val = train_run(strategy, out, options + loss_options(candidate), study="kd_study")
        tried.append({"options": candidate, "val_kappa": val["kappa"], "checkpoint": out / "best"})
        if best is None or val["kappa"] > best["val"]["kappa"]:
            best = {"val": val, "options": candidate, "checkpoint": out / "best"}
    return {**best, "tried": tried}


def test_scores(checkpoint: Path, args) -> dict[str, float]:
    """Test-fold scores of a checkpoint against the scored and (with truth) the true stages."""
    return scores_on_split(checkpoint, truth_dir=args.truth, keys=METRICS)


def run_options(fold: int, context: int, args) -> TrainOptions:
    """The training options every run of one fold and context length shares."""
    model = {"model": "context_small"} if context else {}
    sets = ["data.split=kfold", f"data.folds={args.folds}", f"data.fold={fold}"]
    sets += [f"model.context_epochs={context}"] if context else []
    return TrainOptions.of(*sets, *args.set, data=args.data, cpu=True, runs=args.runs, epochs=args.epochs,
                           mixed_precision=args.mixed_precision, **model)


def warm_starts(fold: int, context: int, args) -> tuple[TrainOptions, TrainOptions]:
    """The options that start a context run's encoder from the fold's one-window runs (teacher, students).

    With ``--warm-start`` (the default) and T > 0: the EEG teacher starts from the fold's
    one-window ``eeg_base``, every ECG student that does not start from another run from its
    one-window ``ecg_base`` (``paths.encoder_init``). Context 0 runs first (``--contexts`` is
    sorted); its runs are these checkpoints.
    """
    if not context or not args.warm_start:
        return TrainOptions(), TrainOptions()
    one = args.runs / f"fold{fold}" / "context0"
    starts = []
    for strategy in ("eeg_base", "ecg_base"):
        best = one / strategy / "best"
        starts.append(TrainOptions.of(f"paths.encoder_init={best}") if (best / "model.safetensors").is_file()
                      else None)
    if starts[0] is None and needs_teacher(context, args):
        raise InputError(f"kd_study: fold {fold}, context {context}: the teacher starts from the one-window eeg_base "
                         f"at {one / 'eeg_base' / 'best'}, which is not there; add 0 to --contexts, "
                         "or pass --no-warm-start")
    if starts[1] is None:
        raise InputError(f"kd_study: fold {fold}, context {context} starts from the one-window ecg_base at "
                         f"{one / 'ecg_base' / 'best'}, which is not there; add 0 to --contexts, "
                         "or pass --no-warm-start")
    return starts[0] or TrainOptions(), starts[1]


def val_history(run: Path) -> list[float]:
    """The validation kappa after each epoch of a run (its ``state/progress.json``)."""
    progress = json.loads((run / "state" / "progress.json").read_text())
    return [h["kappa"] for h in progress.get("history", [])]


def check_plan(args, grid: dict[str, list[str]]) -> None:
    """Every run the study will make, checked before the first one trains: each strategy and grid
    option's training options, every fold's split of the cohort and the output locations."""
    from sleep_kd.data.splits import make_splits
    from sleep_kd.engine.outputs import check_output_dir
    from sleep_kd.engine.schema import SCHEMA, check_value

    check_value("data.folds", args.folds, origin="--folds")
    check_value("train.epochs", args.epochs, origin="--epochs")
    longest = SCHEMA["model.context_epochs"].high
    for context in args.contexts:
        if not 0 <= context <= longest:
            raise InputError(f"--contexts {context}: expected 0 (one window) or epochs of context in 1..{longest}")
    outside = [f for f in args.only_folds or [] if not 0 <= f < args.folds]
    if outside:
        raise InputError(f"--only-folds {outside[0]}: expected a fold in 0..{args.folds - 1} (--folds {args.folds})")
    if args.truth is not None and not args.truth.is_dir():
        raise InputError(f"--truth {args.truth}: no such folder")
    if args.out.is_dir():
        raise InputError(f"--out {args.out}: is a folder, expected a file name (FILE.json)")
    check_output_dir(args.out.parent, label=f"--out {args.out}")
    check_output_dir(args.runs, label=f"--runs {args.runs}")
    folds = args.only_folds or list(range(args.folds))
    every_option = [{}, *candidates(grid, "sd"), *candidates(grid, "at")]
    for fold in folds:  # every grid option in the first fold (the config is the same in the others)
        for context in args.contexts:
            for options in every_option if fold == folds[0] else [{}]:
                _, config = resolve("ecg_base", run_options(fold, context, args) + loss_options(options))
        make_splits(args.data, method="kfold", seed=config["data"]["split_seed"], k=args.folds, fold=fold)


def reference_row(data: Path, truth: Path | None, folds: int) -> dict | None:
    """The reference pipeline's kappas, if ``sleep_kd.baselines`` is installed."""
    try:
        from sleep_kd.baselines import run_reference
    except ImportError:
        return None
    result = run_reference(data, truth_dir=truth, n_folds=folds)
    return {"kappa": result["kappa"], "n_folds": folds, "note": "its own subject-wise folds"}


def build_parser() -> argparse.ArgumentParser:
    from sleep_kd.hardware import MIXED_PRECISIONS

    parser = ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="cohort HDF5 file")
    parser.add_argument("--truth", type=Path, help="folder of <id>.csv true stages (default: truth/ beside --data)")
    parser.add_argument("--folds", type=int, default=5, help="subject-wise folds, k >= 3 (default 5)")
    parser.add_argument("--contexts", type=int, nargs="+", default=[0, 20], help="0 = one window; T = T epochs")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--grid", action="append", default=[], help="sd.OPTION=V1,V2 or at.OPTION=V1,V2")
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE for every run")
    parser.add_argument("--mixed-precision", default="auto", choices=MIXED_PRECISIONS)
    parser.add_argument("--runs", type=Path, default=Path("runs/kd_study"))
    parser.add_argument("--out", type=Path, default=Path("results/kd_study.json"))
    parser.add_argument("--warm-start", action=argparse.BooleanOptionalAction, default=True,
                        help="start each context run's encoder from the fold's one-window run (default: yes)")
    parser.add_argument("--only-folds", type=int, nargs="+", help="run these folds only (a partial study)")
    parser.add_argument("--students", nargs="+", choices=STUDENTS, default=list(STUDENTS),
                        help="students to train (ecg_base always; feat_wce and feat_temp train feat_train)")
    parser.add_argument("--one-window-students", nargs="+", choices=STUDENTS,
                        help="students at context 0 (default: --students)")
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    check_cohort_file(args.data)
    if args.folds < 3:
        raise InputError(f"--folds {args.folds}: kfold needs k >= 3 (test, validation and training folds)")
    grid = parse_grid(args.grid)
    args.contexts = sorted(set(args.contexts))  # one-window first: context runs start from its runs
    check_plan(args, grid)
    args.truth = args.truth or (args.data.parent / "truth" if (args.data.parent / "truth").is_dir() else None)
    if 0 not in args.contexts:  # the warm starts must already be there: say so before anything runs
        for fold in args.only_folds or range(args.folds):
            for context in args.contexts:
                warm_starts(fold, context, args)
    began = time.perf_counter()
    reference = reference_row(args.data, args.truth, args.folds)
    rows = []
    for fold in args.only_folds or range(args.folds):
        for context in args.contexts:
            rows.extend(cached_fold(fold, context, args, grid))
    result = {"command": command_line("kd_study", argv), "seconds": time.perf_counter() - began,
              "machine": machine(), "data": str(args.data), "truth": str(args.truth) if args.truth else None,
              "folds": args.folds, "contexts": args.contexts, "epochs": args.epochs, "grid": grid,
              "students": list(args.students), "warm_start": args.warm_start,
              "one_window_students": list(args.one_window_students or args.students), "reference": reference,
              "rows": rows, "summary": summarise(rows)}
    from sleep_kd.engine.outputs import write_text_atomic

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out, json.dumps(result, indent=1, default=str) + "\n", label=f"--out {args.out}")
    print(f"[kd_study] {len(rows)} runs scored in {result['seconds']:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
