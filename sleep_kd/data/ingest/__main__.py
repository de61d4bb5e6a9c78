"""Command line: ``python -m sleep_kd.data.ingest --source NAME --root DIR --out FILE.h5``.

``--manifest FILE.csv`` lists the nights instead of ``--root``; numeric hypnograms need
``--stage-codes``.
"""

from __future__ import annotations

import argparse
import sys

from sleep_kd.data.ingest.pipeline import ingest
from sleep_kd.data.ingest.sources import list_sources
from sleep_kd.data.stages import STAGE_CODE_MAPS
from sleep_kd.allocator import keep_freed_memory
from sleep_kd.errors import ArgumentParser, cli_entry


def build_parser(prog: str = "python -m sleep_kd.data.ingest") -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=prog,
        description="Turn PSG recordings into one HDF5 cohort file (EEG, ECG, scored epochs).",
    )
    parser.add_argument("--source", required=True, choices=list_sources(), help="recording layout")
    parser.add_argument("--root", help="folder holding the recordings (not needed with --manifest)")
    parser.add_argument("--manifest", help="CSV with columns signal,hypnogram[,subject,subset] pairing the files "
                                           "explicitly (relative paths are relative to the manifest)")
    parser.add_argument("--out", required=True, help="cohort file to write (FILE.h5)")
    parser.add_argument("--sfreq", type=float, default=200.0, help="stored rate in Hz (default 200)")
    parser.add_argument("--workers", type=int, default=1, help="reader processes (default 1)")
    parser.add_argument("--strict", action="store_true", help="stop at the first bad recording")
    parser.add_argument("--unscored", action="store_true",
                        help="keep recordings that have signals but no hypnogram (a manifest row with an empty "
                             "hypnogram cell) as nights nobody scored, for distillation; default: skip them")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    group = parser.add_argument_group("source options")
    group.add_argument("--subsets", nargs="+", help="mass: subset folders to read (default all)")
    group.add_argument("--eeg", help="edf, nsrr: EEG channel, or 'A - B' for a derivation (nsrr: overrides the "
                                     "cohort's alias table)")
    group.add_argument("--ecg", help="edf, nsrr: ECG channel or derivation; --ecg without --eeg stores ECG-only nights")
    group.add_argument("--invert-ecg", action="store_true", help="edf, nsrr: multiply the ECG by -1")
    group.add_argument("--modalities", nargs="+", choices=("eeg", "ecg"), help="nsrr: signals to store (default both)")
    group.add_argument("--epoch-s", type=float, help="edf: line step of one-label-per-line text hypnograms (s; such files are refused "
                                                            "without it, the step is never guessed)")
    group.add_argument("--scoring-epoch-s", type=float,
                       help="edf: the scoring epoch (s, default --epoch-s, else 30; never inferred from annotation durations); "
                            "finer text hypnogram lines are merged into it (e.g. --epoch-s 5 --scoring-epoch-s 30), "
                            "EDF+ stage annotations must each last a whole number of it")
    builtin = "; ".join(f"{name}: {codes}" for name, codes in STAGE_CODE_MAPS.items())
    group.add_argument("--stage-codes", help=f"edf: meaning of numeric stage labels, a name ({builtin}) or your own "
                                             "'CODE=STAGE,...' with stages W N1 N2 N3 N4 R M ?")
    group.add_argument("--subject-regex", help="edf: regex whose first group is the subject id")
    return parser


def source_options(args: argparse.Namespace) -> dict:
    """The source options the user actually gave (a source rejects ones it does not take)."""
    names = ("subsets", "eeg", "ecg", "invert_ecg", "modalities", "epoch_s", "scoring_epoch_s", "stage_codes",
             "subject_regex")
    # By identity: a value of 0 (``--epoch-s 0``) is given, and must reach the source's check.
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None
            and getattr(args, name) is not False}


@cli_entry
def main(argv: list[str] | None = None, *, prog: str = "python -m sleep_kd.data.ingest") -> int:
    args = build_parser(prog).parse_args(argv)
    keep_freed_memory()  # reuse freed signal buffers instead of faulting fresh pages (workers inherit it)
    summary = ingest(args.source, args.root, args.out, sfreq=args.sfreq, workers=args.workers,
                     strict=args.strict, progress=not args.no_progress, manifest=args.manifest, unscored=args.unscored,
                     **source_options(args))
    print(summary.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
