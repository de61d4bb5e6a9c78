"""Score checkpoints: ``python evaluate.py CKPT [--data FILE.h5] [--split test] [--json OUT.json]``.

The model is rebuilt from the checkpoint alone. ``--compare CKPT ...`` adds more checkpoints and
prints them side by side in the papers' table, each against the ECG base.
"""

from __future__ import annotations

import argparse
import json
import sys

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
    return parser.parse_args(argv)


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    keep_freed_memory()  # glibc keeps freed feature maps for reuse: far fewer page faults
    from sleep_kd.engine.outputs import check_output_file, write_text_atomic

    if args.json:  # before any scoring: a report that cannot be written is known now, not after every night
        check_output_file(args.json, label=f"--json {args.json}")
    from accelerate import PartialState

    from sleep_kd.evaluation.report import format_comparison, format_report
    from sleep_kd.evaluation.scoring import evaluate_checkpoint

    reports = [evaluate_checkpoint(path, data=args.data, split=args.split, batch_size=args.batch_size, cpu=args.cpu,
                                   precision=args.precision)
               for path in [args.checkpoint, *args.compare]]
    if not PartialState().is_main_process:
        return 0
    for report in reports:
        print(format_report(report))
        print()
    if args.compare:
        print(format_comparison(reports))
    if args.json:  # an earlier report is replaced only by a complete one
        report = json.dumps(reports if args.compare else reports[0], indent=2)
        write_text_atomic(args.json, report, label=f"--json {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
