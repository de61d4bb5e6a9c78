"""Score checkpoints: ``python evaluate.py CKPT [--data FILE.h5] [--split test] [--json OUT.json]``.

The model is rebuilt from the checkpoint alone. ``--compare CKPT ...`` adds more checkpoints and
prints them side by side in the papers' table (one row per checkpoint), each against the ECG base,
with the case analysis of every student against it (case 1: student right where the ECG base is
wrong; case 2: the reverse). ``--figures DIR`` writes a confusion matrix per model and the 2-D
embedding of every model's bottleneck features (``embedding.png``, shared axes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sleep_kd.allocator import keep_freed_memory
from sleep_kd.errors import cli_entry
from sleep_kd.evaluation.precision import DEFAULT_BATCH, PRECISIONS


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="checkpoint folder (e.g. runs/.../feat_temp/best)")
    parser.add_argument("--data", help="HDF5 cohort (default: the one the checkpoint was trained on)")
    parser.add_argument("--split", default="test", help="train, val, test (the checkpoint's subject split) or all")
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


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse an output location that cannot be written, before any checkpoint is scored."""
    from sleep_kd.engine.outputs import check_output_file
    from sleep_kd.errors import InputError
    from sleep_kd.predict.writers import check_writable

    if args.json:
        check_output_file(args.json, label=f"--json {args.json}")
    if args.figures:
        try:
            check_writable(Path(args.figures))
        except InputError as error:
            raise InputError(str(error).replace("--out", "--figures", 1)) from None
    if args.max_points <= 0:
        raise InputError(f"--max-points must be a positive integer, got {args.max_points}")


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    keep_freed_memory()  # glibc keeps freed feature maps for reuse: far fewer page faults
    check_outputs(args)  # before any scoring: a report that cannot be written is known now
    from accelerate import PartialState

    from sleep_kd.engine.outputs import write_text_atomic
    from sleep_kd.errors import InputError
    from sleep_kd.evaluation.compare import add_cases, write_figures
    from sleep_kd.evaluation.report import format_comparison, format_report
    from sleep_kd.evaluation.scoring import predict_checkpoint, report_of

    if args.figures and PartialState().num_processes > 1:
        raise InputError("--figures runs in one process: python evaluate.py ..., not accelerate launch")
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


if __name__ == "__main__":
    sys.exit(main())
