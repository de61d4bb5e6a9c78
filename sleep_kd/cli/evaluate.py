"""``sleep-kd evaluate CKPT [--data FILE.h5] [--split test] [--json OUT.json]``: score checkpoints.

The model is rebuilt from the checkpoint alone. ``--compare CKPT ...`` adds more checkpoints and
prints them side by side in the papers' table (one row per checkpoint), each against the ECG base,
with the case analysis of every student against it (case 1: student right where the ECG base is
wrong; case 2: the reverse). ``--figures DIR`` writes a confusion matrix per model and the 2-D
embedding of every model's bottleneck features (``embedding.png``, shared axes).

The top-level ``evaluate.py`` is a door into this module (``python evaluate.py CKPT``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sleep_kd.allocator import keep_freed_memory
from sleep_kd.errors import ArgumentParser, cli_entry
from sleep_kd.evaluation.precision import DEFAULT_BATCH, PRECISIONS

SPLITS = ("train", "val", "test", "all")  # sleep_kd.evaluation.scoring.SPLITS, without importing torch for --help
MAX_BATCH = 65536  # windows per forward pass; far past what any device scores at once
MAX_POINTS = 100_000  # epochs in the embedding: t-SNE on more takes hours and draws nothing clearer


def parse_args(argv: list[str] | None, *, prog: str = "sleep-kd evaluate") -> argparse.Namespace:
    parser = ArgumentParser(prog=prog, description=__doc__.rsplit("\n\n", 1)[0],
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="checkpoint folder (e.g. runs/.../feat_temp/best)")
    parser.add_argument("--data", help="HDF5 cohort (default: the one the checkpoint was trained on)")
    parser.add_argument("--split", default="test", choices=SPLITS,
                        help="train, val, test (the checkpoint's subject split) or all")
    parser.add_argument("--json", help="write the report (or, with --compare, the list of reports) here")
    parser.add_argument("--compare", nargs="+", default=[], metavar="CKPT", help="more checkpoints, side by side")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="windows per forward pass")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="autocast while scoring; auto = as the checkpoint was trained and validated "
                             "(bf16 or fp16 where the device has it natively, else fp32)")
    parser.add_argument("--cpu", action="store_true", help="force the CPU")
    parser.add_argument("--figures", metavar="DIR", help="write confusion matrices and the feature embedding here")
    parser.add_argument("--embedding", default="pca", choices=("pca", "tsne"), help="2-D embedding for --figures")
    parser.add_argument("--max-points", type=int, default=2000, help="epochs drawn in the embedding (same for every model)")
    return parser.parse_args(argv)


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse a bad option, a checkpoint that cannot be read or an output that cannot be written, before
    any checkpoint is scored."""
    from sleep_kd.engine.checkpoint import read_checkpoint
    from sleep_kd.engine.outputs import check_output_dir, check_output_file
    from sleep_kd.engine.restore import check_record
    from sleep_kd.errors import InputError

    if not 1 <= args.batch_size <= MAX_BATCH:
        raise InputError(f"--batch-size {args.batch_size}: expected an integer in [1, {MAX_BATCH}]")
    if not 1 <= args.max_points <= MAX_POINTS:
        raise InputError(f"--max-points {args.max_points}: expected an integer in [1, {MAX_POINTS}]")
    if args.data is not None and not Path(args.data).is_file():
        raise InputError(f"--data {args.data}: no such cohort file")
    checkpoints = [read_checkpoint(path) for path in [args.checkpoint, *args.compare]]
    for checkpoint in checkpoints:
        check_record(checkpoint)
    if args.figures:  # one figure set needs one class list and one cohort: known before scoring
        from sleep_kd.data.preparation import read_preparation

        data = [read_preparation(checkpoint.config, checkpoint=checkpoint.path) for checkpoint in checkpoints]
        classes = sorted({str(d.n_classes) for d in data})
        if len(classes) > 1:
            raise InputError(f"--figures: the checkpoints predict different numbers of classes ({', '.join(classes)})")
        cohorts = sorted({str(args.data or d.path) for d in data})
        if len(cohorts) > 1:
            raise InputError(f"--figures: the checkpoints were trained on different cohorts ({', '.join(cohorts)}); "
                             "pass --data to score all on one")
    if args.json:
        check_output_file(args.json, label=f"--json {args.json}")
    if args.figures:
        check_output_dir(args.figures, label=f"--figures {args.figures}")


@cli_entry
def main(argv: list[str] | None = None, *, prog: str = "sleep-kd evaluate") -> int:
    """The command line (``prog``: the door used, named in its usage and error lines)."""
    args = parse_args(argv, prog=prog)
    keep_freed_memory()  # glibc keeps freed feature maps for reuse: far fewer page faults
    check_arguments(args)  # before any scoring: a bad checkpoint or a report that cannot be written is known now
    from accelerate import PartialState

    from sleep_kd.engine.outputs import write_text_atomic
    from sleep_kd.errors import InputError
    from sleep_kd.evaluation.compare import add_cases, write_figures
    from sleep_kd.evaluation.report import format_comparison, format_report
    from sleep_kd.evaluation.scoring import predict_checkpoint, report_of

    if args.figures and PartialState().num_processes > 1:
        raise InputError(f"--figures runs in one process: {_one_process(prog)} ..., not accelerate launch")
    scoreds = [predict_checkpoint(path, data=args.data, split=args.split, batch_size=args.batch_size, cpu=args.cpu,
                                  precision=args.precision)
               for path in [args.checkpoint, *args.compare]]
    reports = [report_of(scored, split=args.split) for scored in scoreds]
    if not PartialState().is_main_process:
        return 0
    for report in reports:
        print(format_report(report))
        print()
    if args.compare:
        print(format_comparison(reports))
        for block in add_cases(scoreds, reports):
            print()
            print(block)
    if args.figures:
        files = write_figures(scoreds, reports, Path(args.figures), method=args.embedding,
                              max_points=args.max_points, batch_size=args.batch_size)
        print(f"\nwrote {len(files)} figures to {args.figures}: " + ", ".join(f.name for f in files))
    if args.json:  # an earlier report is replaced only by a complete one
        report = json.dumps(reports if args.compare else reports[0], indent=2)
        write_text_atomic(args.json, report, label=f"--json {args.json}")
    return 0


def _one_process(prog: str) -> str:
    """How to run this command in one process: ``python evaluate.py`` or ``sleep-kd evaluate``."""
    return f"python {prog}" if prog.endswith(".py") else prog


if __name__ == "__main__":
    sys.exit(main())
