"""``python -m sleep_kd.predict CKPT NIGHT.edf [NIGHT2.edf | FOLDER | 'GLOB' ...] --out DIR``.

Stages each night with a trained checkpoint: the channel its modality needs is found by name
(``--channel`` to choose it), resampled and normalised as in training, scored epoch by epoch, and
written to DIR as a hypnogram CSV, an EDF+ hypnogram, a PNG and sleep statistics; DIR/summary.csv
holds one row per night (and keeps the rows of earlier runs into DIR). A bad night is skipped with
one line (``--strict``: exit 2 at the first). An output that would replace an input of the run, or
a hypnogram predict did not write, is refused before any night is read.
"""

from __future__ import annotations

import argparse
import sys

from sleep_kd.errors import ArgumentParser, InputError, cli_entry
from sleep_kd.evaluation.precision import DEFAULT_BATCH, PRECISIONS


def parse_args(argv: list[str] | None, *, prog: str = "python -m sleep_kd.predict") -> argparse.Namespace:
    parser = ArgumentParser(prog=prog, description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="checkpoint folder (e.g. runs/.../feat_temp/best)")
    parser.add_argument("nights", nargs="+", help="EDF files, folders of them, or quoted globs")
    parser.add_argument("--out", required=True, help="folder for the outputs (created if missing)")
    parser.add_argument("--channel", help="channel label, or a derivation 'A - B' (default: search common names)")
    parser.add_argument("--invert", action=argparse.BooleanOptionalAction, default=None,
                        help="multiply the signal by -1 (default: as the checkpoint's training read that lead; "
                             "a lead training never saw is read as recorded)")
    parser.add_argument("--start", help="lights-off: seconds from the recording start, or clock time HH:MM[:SS]")
    parser.add_argument("--end", help="lights-on: seconds from the recording start, or clock time HH:MM[:SS]")
    parser.add_argument("--epoch-s", type=float, default=30.0, help="scoring epoch, seconds (default 30)")
    parser.add_argument("--hypnogram", help="a scored hypnogram (EDF+ or CSV) for one night, or a folder of them "
                                            "paired with the nights by name: adds the agreement; predicted "
                                            "epochs then follow its epoch grid")
    parser.add_argument("--line-s", type=float, help="seconds between the lines of a one-stage-per-line text "
                                                     "scoring (required for such a file; never taken from --epoch-s)")
    parser.add_argument("--strict", action="store_true", help="stop at the first bad night (exit 2)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="windows per forward pass")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="autocast while scoring; auto = as the checkpoint was trained, where native")
    parser.add_argument("--cpu", action="store_true", help="force the CPU")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


@cli_entry
def main(argv: list[str] | None = None, *, prog: str = "python -m sleep_kd.predict") -> int:
    args = parse_args(argv, prog=prog)
    if not 0 < args.epoch_s < float("inf"):
        raise InputError(f"--epoch-s must be a positive number of seconds, got {args.epoch_s!r}")
    if args.line_s is not None and not 0 < args.line_s < float("inf"):
        raise InputError(f"--line-s must be a positive number of seconds, got {args.line_s!r}")
    if args.batch_size <= 0:
        raise InputError(f"--batch-size must be a positive integer, got {args.batch_size}")
    import datetime as dt

    from sleep_kd.predict.night import parse_time
    from sleep_kd.predict.run import NightOptions, stage_nights
    from sleep_kd.predict.scoring import load_stager
    from sleep_kd.predict.writers import check_writable

    for name in ("start", "end"):  # the spelling is checked once here, not once per night
        parse_time(getattr(args, name), start=dt.datetime(2000, 1, 1), name=name)
    check_writable(args.out)  # before the checkpoint is even loaded
    stager = load_stager(args.checkpoint, precision=args.precision, cpu=args.cpu)
    options = NightOptions(channel=args.channel, invert=args.invert, start=args.start, end=args.end,
                           epoch_s=args.epoch_s, batch_size=args.batch_size, line_s=args.line_s)
    rows, skipped = stage_nights(stager, args.nights, out=args.out, options=options, hypnogram=args.hypnogram,
                                 strict=args.strict, progress=not args.no_progress,
                                 say=print if args.no_progress else None)
    print(f"staged {len(rows)} night(s) into {args.out}" + (f", skipped {len(skipped)}" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
