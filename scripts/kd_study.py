"""The experiment of issue 14: does the EEG teacher help the ECG student, with and without night context?

    python scripts/kd_study.py --data COHORT.h5 [--truth DIR] [--folds 5] [--contexts 0 20] [--epochs 4]
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
generator writes them), against the true stages. The reference pipeline of issue 13
(``sleep_kd.baselines``) gives the first row when it is installed.

A context run starts its per-epoch encoder from the same fold's one-window run (``--warm-start``,
the default: the EEG teacher from the one-window ``eeg_base``, the ECG students from the one-window
``ecg_base``; ``paths.encoder_init``), since an ECG context model trained from scratch sits at the
class prior for its first ~30,000 windows (bench/README.md, "Night context"). The context rows
therefore cost the one-window ``ecg_base``'s training on top of their own: the tables say so.

``--students`` limits the students (``--one-window-students`` at context 0; the teacher is trained
only for students that need it). Each fold's rows are kept beside its runs with the settings
that made them, so a study can be run in pieces (``--only-folds``) and a later call with the same
settings reuses them instead of training again.

Results go to one JSON file; ``scripts/study_tables.py`` turns it into the README's tables.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sleep_kd.errors import ArgumentParser, InputError, cli_entry  # noqa: E402

STUDENTS = ("ecg_base", "kd_temp", "feat_train", "feat_temp", "feat_wce")
METRICS = ("kappa", "weighted_f1", "macro_f1")
GRID_TERMS = {"sd": ("kd_temp", "feat_temp"), "at": ("feat_train",)}
RESULT_KEYS = ("command", "seconds", "machine", "data", "folds", "epochs", "grid", "rows", "summary")


def read_result(path: Path, *, keys: tuple[str, ...] = RESULT_KEYS) -> dict:
    """A result file this script wrote (``--out``), or one InputError line naming it and what is wrong
    (``keys``: the top-level keys the reader needs)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a kd_study.py result (FILE.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file (a kd_study.py result)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot be read ({getattr(error, 'strerror', None) or error})") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not JSON ({error})") from None
    missing = [key for key in keys if not isinstance(data, dict) or key not in data]
    if missing:
        raise InputError(f"{path}: not a kd_study.py result (no '{missing[0]}')")
    return data


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """``["sd.temperature=1,4"]`` -> ``{"sd.temperature": ["1", "4"]}``; only loss options of sd and at.

    Every value is checked by its config key's rule (``loss.sd.temperature``) here, before any run.
    """
    from sleep_kd.engine.schema import SCHEMA, check_value

    grid: dict[str, list[str]] = {}
    for item in items:
        key, _, values = item.partition("=")
        if not values or key.split(".")[0] not in GRID_TERMS or key.count(".") != 1:
            raise InputError(f"--grid {item!r}: expected sd.OPTION=V1,V2 or at.OPTION=V1,V2")
        if f"loss.{key}" not in SCHEMA:
            term = key.split(".")[0]
            known = ", ".join(k.split(".")[-1] for k in SCHEMA if k.startswith(f"loss.{term}."))
            raise InputError(f"--grid {item!r}: loss term '{term}' has no option '{key.split('.')[1]}' "
                             f"(its options: {known})")
        for value in values.split(","):
            check_value(f"loss.{key}", value, origin=f"--grid {item}")
        grid[key] = values.split(",")
    return grid


def candidates(grid: dict[str, list[str]], term: str) -> list[dict[str, str]]:
    """Every combination of the grid's options of one loss term (one empty candidate without any)."""
    keys = [k for k in grid if k.split(".")[0] == term]
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))] or [{}]


def true_classes(truth_dir: Path | None, recording: str, n_epochs: int, n_classes: int) -> np.ndarray | None:
    """The true stage classes of a recording's epochs from ``truth/<id>.csv`` (one row per epoch)."""
    from sleep_kd.data.stages import to_classes
    from sleep_kd.data.synthetic.truth import read_truth

    path = truth_dir / f"{recording}.csv" if truth_dir is not None else None
    if path is None or not path.is_file():
        return None
    truth = read_truth(path)
    if len(truth.true) != n_epochs:
        raise InputError(f"{path}: {len(truth.true)} truth epochs, expected {n_epochs} as in the cohort file")
    return to_classes(truth.true, n_classes)


def scores_on_test_fold(checkpoint: Path, *, truth_dir: Path | None) -> dict[str, float]:
    """Test-fold scores of a checkpoint against the scored and (with truth) the true stages."""
    from sleep_kd.data import cohort_file as store
    from sleep_kd.evaluation.scoring import predict_checkpoint
    from sleep_kd.metrics.scores import summary_scores

    predictions, dataset, _, _ = predict_checkpoint(checkpoint, split="test", cpu=True, precision="auto")
    n_classes = dataset.n_classes
    scores = {f"{k}": v for k, v in summary_scores(predictions.y_true, predictions.y_pred, n_classes).items()
              if k in METRICS}
    truths = []
    with store.open_cohort(dataset.path) as handle:
        for index, rid in enumerate(dataset.recordings):
            n_epochs = store.read_epochs(handle, rid).stage.size
            truth = true_classes(truth_dir, rid, n_epochs, n_classes)
            if truth is None:
                return scores
            mine = predictions.recording == index
            truths.append((mine, truth[predictions.epoch[mine]]))
    y_true = np.empty_like(predictions.y_true)
    for mine, truth in truths:
        y_true[mine] = truth
    kept = y_true >= 0  # an epoch scored by the scorer but unscorable in truth does not count
    true_scores = summary_scores(y_true[kept], predictions.y_pred[kept], n_classes)
    scores.update({f"true_{k}": v for k, v in true_scores.items() if k in METRICS})
    return scores


def train(strategy: str, out: Path, base: list[str], extra: list[str]) -> dict:
    """Train one strategy through train_loop.main into ``out``; its best validation metrics."""
    import train_loop

    code = train_loop.main(["--strategy", strategy, "--out", str(out), *base, *extra])
    if code != 0:  # train_loop has said why in one line; its exit code (2 bad input, 130 interrupted) is ours
        again = ("; to go on with the study, run the same kd_study.py command again (the folds and context lengths "
                 "already scored are kept, this one trains again)") if code == 130 else ""
        print(f"[kd_study] training {strategy} into {out} stopped with exit code {code}{again}", file=sys.stderr)
        raise SystemExit(code)
    return json.loads((out / "best" / "metrics.json").read_text())


def set_args(options: dict[str, str]) -> list[str]:
    return [a for key, value in options.items() for a in ("--set", f"loss.{key}={value}")]


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
    folder = args.runs / f"fold{fold}" / f"context{context}"
    students = students_for(context, args)
    base = run_args(fold, context, args)
    teacher = folder / "eeg_base"
    eeg_start, ecg_start = warm_starts(fold, context, args)
    rows = {}
    if needs_teacher(context, args):  # a teacher only for students that learn from one
        rows["eeg_base"] = {"val": train("eeg_base", teacher, base, eeg_start), "options": {},
                            "checkpoint": teacher / "best"}
    t = ["--teacher", str(teacher / "best")]
    rows["ecg_base"] = {"val": train("ecg_base", folder / "ecg_base", base, ecg_start), "options": {},
                        "checkpoint": folder / "ecg_base" / "best"}
    if "kd_temp" in students:
        rows["kd_temp"] = choose("kd_temp", folder, base, t + ecg_start, candidates(grid, "sd"))
    if {"feat_train", "feat_wce", "feat_temp"} & set(students):
        # feat_train's options are judged by the validation kappa of the feat_wce started from it.
        best_wce, best_train = None, None
        for number, options in enumerate(candidates(grid, "at")):
            start = folder / f"feat_train-{number}"
            train("feat_train", start, base, t + ecg_start + set_args(options))
            wce_val = train("feat_wce", folder / f"feat_wce-{number}", base, ["--init", str(start / "best")])
            if best_wce is None or wce_val["kappa"] > best_wce["val"]["kappa"]:
                best_wce = {"val": wce_val, "options": options, "checkpoint": folder / f"feat_wce-{number}" / "best"}
                best_train = {"val": json.loads((start / "best" / "metrics.json").read_text()), "options": options,
                              "checkpoint": start / "best"}
        rows["feat_train"], rows["feat_wce"] = best_train, best_wce
        if "feat_temp" in students:
            rows["feat_temp"] = choose("feat_temp", folder, base, t + ["--init", str(best_train["checkpoint"])],
                                       candidates(grid, "sd"))
    results = []
    for strategy, row in rows.items():
        result = {"fold": fold, "context_epochs": context, "strategy": strategy, "options": row["options"],
                  "val_kappa": row["val"]["kappa"], "val_history": val_history(row["checkpoint"].parent),
                  "test": scores_on_test_fold(row["checkpoint"], truth_dir=args.truth)}
        if len(row.get("tried", [])) > 1:  # every option's test scores, for the analysis only (chosen on val)
            result["tried"] = [{"options": c["options"], "val_kappa": c["val_kappa"],
                                "test": scores_on_test_fold(c["checkpoint"], truth_dir=args.truth)}
                               for c in row["tried"]]
        results.append(result)
    return results


def run_args(fold: int, context: int, args) -> list[str]:
    """train_loop arguments every run of one fold and context length shares."""
    base = ["--data", str(args.data), "--cpu", "--runs", str(args.runs), "--epochs", str(args.epochs),
            "--mixed-precision", args.mixed_precision, "--set", "data.split=kfold",
            "--set", f"data.folds={args.folds}", "--set", f"data.fold={fold}"]
    if context:
        base += ["--model", "context_small", "--set", f"model.context_epochs={context}"]
    for pair in args.set:
        base += ["--set", pair]
    return base


def check_plan(args, grid: dict[str, list[str]]) -> None:
    """Every run the study will make, checked before the first one trains: each strategy and grid
    option's train_loop arguments, every fold's split of the cohort and the output locations."""
    import train_loop

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
                _, _, config = train_loop.resolved(["--strategy", "ecg_base", *run_args(fold, context, args),
                                                     *set_args(options)])
        make_splits(args.data, method="kfold", seed=config["data"]["split_seed"], k=args.folds, fold=fold)


def warm_starts(fold: int, context: int, args) -> tuple[list[str], list[str]]:
    """train_loop arguments that start a context run's encoder from the fold's one-window runs.

    With ``--warm-start`` (the default) and T > 0: the EEG teacher starts from the fold's
    one-window ``eeg_base``, every ECG student that does not start from another run from its
    one-window ``ecg_base`` (``paths.encoder_init``). Context 0 runs first (``--contexts`` is
    sorted); its runs are these checkpoints.
    """
    if not context or not args.warm_start:
        return [], []
    one = args.runs / f"fold{fold}" / "context0"
    starts = []
    for strategy in ("eeg_base", "ecg_base"):
        best = one / strategy / "best"
        starts.append(["--set", f"paths.encoder_init={best}"] if (best / "model.safetensors").is_file() else [])
    if not starts[0] and needs_teacher(context, args):
        raise InputError(f"kd_study: fold {fold}, context {context}: the teacher starts from the one-window eeg_base "
                         f"at {one / 'eeg_base' / 'best'}, which is not there; add 0 to --contexts, "
                         "or pass --no-warm-start")
    if not starts[1]:
        raise InputError(f"kd_study: fold {fold}, context {context} starts from the one-window ecg_base at "
                         f"{one / 'ecg_base' / 'best'}, which is not there; add 0 to --contexts, "
                         "or pass --no-warm-start")
    return starts[0], starts[1]


def val_history(run: Path) -> list[float]:
    """The validation kappa after each epoch of a run (its ``state/progress.json``)."""
    progress = json.loads((run / "state" / "progress.json").read_text())
    return [h["kappa"] for h in progress.get("history", [])]


def second_half_drop(history: list[float]) -> float:
    """How far the validation kappa fell below its best over the second half of training."""
    if not history:
        return float("nan")
    half = history[len(history) // 2:]
    return max(history) - min(half)


def choose(strategy: str, folder: Path, base: list[str], extra: list[str], options_list: list[dict]) -> dict:
    """Train every candidate; keep the one with the best validation kappa (``tried``: all of them)."""
    best, tried = None, []
    for number, options in enumerate(options_list):
        out = folder / f"{strategy}-{number}"
        val = train(strategy, out, base, extra + set_args(options))
        tried.append({"options": options, "val_kappa": val["kappa"], "checkpoint": out / "best"})
        if best is None or val["kappa"] > best["val"]["kappa"]:
            best = {"val": val, "options": options, "checkpoint": out / "best"}
    return {**best, "tried": tried}


def interval(values: list[float]) -> dict[str, float]:
    """Mean and 95 % t interval over folds (the half-width is NaN with one fold)."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": int(x.size)}


def summarise(rows: list[dict]) -> dict:
    """Per context and strategy: each test score's mean over folds, and the paired change vs ecg_base."""
    summary: dict[str, dict] = {}
    for context in sorted({r["context_epochs"] for r in rows}):
        mine = [r for r in rows if r["context_epochs"] == context]
        base = {r["fold"]: r["test"] for r in mine if r["strategy"] == "ecg_base"}
        block = {}
        for strategy in ("eeg_base", *STUDENTS):
            runs = sorted((r for r in mine if r["strategy"] == strategy), key=lambda r: r["fold"])
            if not runs:
                continue
            keys = [k for k in runs[0]["test"]] if runs else []
            entry = {k: interval([r["test"][k] for r in runs]) for k in keys}
            if strategy != "ecg_base" and strategy != "eeg_base":
                entry["change_vs_ecg_base"] = {k: interval([r["test"][k] - base[r["fold"]][k] for r in runs])
                                               for k in keys}
            entry["options"] = [r["options"] for r in runs]
            if strategy != "ecg_base" and all("tried" in r for r in runs):
                entry["per_option"] = per_option(runs, base)
            # The recipe's stability (issue 14: within 0.05 of the best over the second half of training).
            entry["val_second_half_drop"] = [second_half_drop(r.get("val_history", [])) for r in runs]
            block[strategy] = entry
        summary[f"context{context}"] = block
    contexts = sorted({r["context_epochs"] for r in rows})
    if 0 in contexts and len(contexts) > 1:  # the context student against the one-window student, paired by fold
        one = {r["fold"]: r["test"] for r in rows if r["context_epochs"] == 0 and r["strategy"] == "ecg_base"}
        for context in contexts[1:]:
            runs = [r for r in rows if r["context_epochs"] == context and r["strategy"] == "ecg_base"]
            summary[f"context{context}"]["ecg_base"]["change_vs_one_window"] = {
                k: interval([r["test"][k] - one[r["fold"]][k] for r in runs]) for k in runs[0]["test"]}
    return summary


def per_option(runs: list[dict], base: dict[int, dict]) -> list[dict]:
    """Each tried option's paired change against the fold's ecg_base (test subjects, every fold).

    An analysis of what the option does, not a result: the result is the option chosen on
    validation. Options are matched by value across folds.
    """
    table = []
    for options in [c["options"] for c in runs[0]["tried"]]:
        tests = [next(c["test"] for c in r["tried"] if c["options"] == options) | {"fold": r["fold"]} for r in runs]
        table.append({"options": options,
                      "val_kappa": interval([next(c["val_kappa"] for c in r["tried"] if c["options"] == options)
                                             for r in runs]),
                      "change_vs_ecg_base": {k: interval([t[k] - base[t["fold"]][k] for t in tests])
                                             for k in runs[0]["test"]}})
    return table


def reference_row(data: Path, truth: Path | None, folds: int) -> dict | None:
    """The reference pipeline's kappas (issue 13), if ``sleep_kd.baselines`` is installed."""
    try:
        from sleep_kd.baselines import run_reference
    except ImportError:
        return None
    result = run_reference(data, truth_dir=truth, n_folds=folds)
    return {"kappa": result["kappa"], "n_folds": folds, "note": "its own subject-wise folds"}


@cli_entry
def main(argv: list[str] | None = None) -> int:
    from sleep_kd.hardware import MIXED_PRECISIONS

    parser = ArgumentParser(prog="kd_study.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="cohort HDF5 file")
    parser.add_argument("--truth", type=Path, help="folder of <id>.csv true stages (default: truth/ beside --data)")
    parser.add_argument("--folds", type=int, default=5, help="subject-wise folds, k >= 3 (default 5)")
    parser.add_argument("--contexts", type=int, nargs="+", default=[0, 20], help="0 = one window; T = T epochs")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--grid", action="append", default=[], help="sd.OPTION=V1,V2 or at.OPTION=V1,V2")
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE for every run")
    parser.add_argument("--mixed-precision", default="auto", choices=MIXED_PRECISIONS)
    parser.add_argument("--runs", type=Path, default=Path("runs/kd_study"))
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "kd_study.json")
    parser.add_argument("--warm-start", action=argparse.BooleanOptionalAction, default=True,
                        help="start each context run's encoder from the fold's one-window run (default: yes)")
    parser.add_argument("--only-folds", type=int, nargs="+", help="run these folds only (a partial study)")
    parser.add_argument("--students", nargs="+", choices=STUDENTS, default=list(STUDENTS),
                        help="students to train (ecg_base always; feat_wce and feat_temp train feat_train)")
    parser.add_argument("--one-window-students", nargs="+", choices=STUDENTS,
                        help="students at context 0 (default: --students)")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        raise InputError(f"--data {args.data}: no such cohort file")
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
    from bench.common import machine

    result = {"command": "python scripts/kd_study.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "seconds": time.perf_counter() - began, "machine": machine(), "data": str(args.data),
              "truth": str(args.truth) if args.truth else None, "folds": args.folds, "contexts": args.contexts,
              "epochs": args.epochs, "grid": grid, "students": list(args.students), "warm_start": args.warm_start,
              "one_window_students": list(args.one_window_students or args.students), "reference": reference, "rows": rows, "summary": summarise(rows)}
    from sleep_kd.engine.outputs import write_text_atomic

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out, json.dumps(result, indent=1, default=str) + "\n", label=f"--out {args.out}")
    print(f"[kd_study] {len(rows)} runs scored in {result['seconds']:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
