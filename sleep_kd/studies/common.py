"""What the studies share: training one run, intervals over folds, result files and their checks."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from sleep_kd.cli.train import TrainOptions, train
from sleep_kd.errors import InputError

METRICS = ("kappa", "weighted_f1", "macro_f1")  # the test scores a study row keeps
RESULT_KEYS = ("command", "seconds", "machine", "data", "folds", "epochs", "grid", "rows", "summary")


def train_run(strategy: str, out: Path, options: TrainOptions, *, study: str) -> dict:
    """Train ``strategy`` into ``out`` with ``options``; its best validation metrics (``best/metrics.json``).

    A run that stops (exit status 1 non-finite loss, 130 interrupted) ends the study with that
    status, after one line saying which run it was; bad options raise InputError before it trains.
    """
    code = train(strategy, options + TrainOptions.of(out=out))
    if code != 0:
        again = ("; to go on, run the same command again (the rows already scored are kept, this run trains "
                 "again)") if code == 130 else ""
        print(f"[{study}] training {strategy} into {out} stopped with exit code {code}{again}", file=sys.stderr)
        raise SystemExit(code)
    return json.loads((Path(out) / "best" / "metrics.json").read_text())


def scores_on_split(checkpoint: Path, *, truth_dir: Path | None, split: str = "test",
                    keys: tuple[str, ...] | None = None, stages: tuple[str, ...] = ()) -> dict[str, float]:
    """A checkpoint's summary scores on a split of its cohort (CPU, in the precision it was trained in).

    Against the scored stages and, with ``truth_dir`` (the generator's ``truth/``), as ``true_<score>``
    against the true stages (:mod:`sleep_kd.evaluation.truth`). ``keys``: the scores kept (default all).
    ``stages``: class names whose F1 against the scored stages is added as ``f1_<stage>`` (one pass
    of the model serves all of it).
    """
    from sleep_kd.evaluation.scoring import predict_checkpoint
    from sleep_kd.evaluation.truth import scores_against_truth
    from sleep_kd.metrics.scores import summary_scores

    def kept(scores: dict) -> dict:
        return {k: v for k, v in scores.items() if keys is None or k in keys}

    scored = predict_checkpoint(checkpoint, split=split, cpu=True, precision="auto")
    predictions, dataset = scored.predictions, scored.dataset
    result = kept(summary_scores(predictions.y_true, predictions.y_pred, dataset.n_classes))
    if stages:
        from sleep_kd.metrics.scores import score_predictions

        report = score_predictions(predictions.y_true, predictions.y_pred, class_names=dataset.class_names)
        result.update({f"f1_{stage}": report["per_class"][stage]["f1"] for stage in stages
                       if stage in report["per_class"]})
    if truth_dir is not None:
        truth = scores_against_truth(predictions, dataset, truth_dir)
        result.update({f"true_{k}": v for k, v in kept(truth).items()})
    return result


def interval(values: list[float]) -> dict[str, float]:
    """Mean and 95 % t interval over folds (the half-width is NaN with one fold)."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": int(x.size)}


def mean_over_folds(per_fold: list[dict]) -> dict:
    """The mean over folds of every number (nested dicts kept)."""
    result = {}
    for name, value in per_fold[0].items():
        if isinstance(value, dict):
            result[name] = mean_over_folds([f[name] for f in per_fold if name in f])
        else:
            result[name] = float(np.mean([f[name] for f in per_fold]))
    return result


def read_result(path: Path, *, keys: tuple[str, ...] = RESULT_KEYS, what: str = "a kd_study result") -> dict:
    """A kd_study result file (its ``--out``), or one InputError line naming it and what is wrong
    (``keys``: the top-level keys the reader needs; ``what``: the file's kind, as the line names it)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected {what} (FILE.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file ({what})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot be read ({getattr(error, 'strerror', None) or error})") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not JSON ({error})") from None
    missing = [key for key in keys if not isinstance(data, dict) or key not in data]
    if missing:
        raise InputError(f"{path}: not {what} (no '{missing[0]}')")
    return data


def check_context(context: int) -> None:
    """``--context``: 0 (one window) or a context length a study can train."""
    from sleep_kd.engine.schema import SCHEMA

    longest = SCHEMA["model.context_epochs"].high
    if not 0 <= context <= longest:
        raise InputError(f"--context {context}: expected 0 (one window) or epochs of context in 1..{longest}")


def check_report_path(out: Path | None) -> None:
    """Refuse a ``--out`` that cannot be written, before any checkpoint is read."""
    from sleep_kd.engine.outputs import check_output_dir

    if out is None:
        return
    if out.is_dir():
        raise InputError(f"--out {out}: is a folder, expected a file name (FILE.json)")
    check_output_dir(out.parent, label=f"--out {out}")


def check_cohort_file(path: Path, *, flag: str = "--data") -> None:
    """A study's cohort argument names a file, or one line: ``--data PATH: no such cohort file``."""
    if not Path(path).is_file():
        raise InputError(f"{flag} {path}: no such cohort file")


def teacher_cohort(folder: Path) -> Path:
    """The cohort file a fold's teacher checkpoint was trained on (its typed preparation's ``path``),
    or one line naming the file."""
    from sleep_kd.data.preparation import read_preparation

    path = folder / "eeg_base" / "best" / "config.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a checkpoint record ({type(error).__name__}: {error})") from None
    preparation = read_preparation(record, checkpoint=path.parent)  # one line naming a bad key
    if preparation.path is None:
        raise InputError(f"{path}: the checkpoint does not record its cohort (data.path)")
    return Path(preparation.path)


def command_line(study: str, argv: list[str] | None) -> str:
    """The command that made a result: ``sleep-kd study NAME ARGS``."""
    return f"sleep-kd study {study} " + " ".join(map(str, argv if argv is not None else sys.argv[1:]))


def write_report(out: Path, study: str, argv: list[str] | None, folders: list[Path], **parts) -> None:
    """A per-fold report as JSON: the command that made it, the folds read, then ``parts``."""
    from sleep_kd.engine.outputs import write_text_atomic

    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"command": command_line(study, argv), "folds": [f.parent.name for f in folders], **parts},
                      indent=1)
    write_text_atomic(out, text + "\n", label=f"--out {out}")


def machine() -> dict:
    """CPU model and the flags that decide its speed, cores, torch, threads: the context of a result."""
    import torch

    from sleep_kd.hardware import cpu_model, cpu_speed_flags, native_bf16

    return {"cpu": cpu_model(), "cpu_flags": " ".join(cpu_speed_flags()), "native_bf16": native_bf16(cuda=False),
            "cores": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads()}


def append_line(path: Path, name: str, figures: dict) -> dict:
    """Print a result as one JSON line (``study``, the time, the machine, ``figures``) and append it to ``path``."""
    import time

    line = {"study": name, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **machine(), **figures}
    text = json.dumps(line, default=float)
    print(text, flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(text + "\n")
    return line
