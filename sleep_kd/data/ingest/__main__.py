"""Command line: ``python -m sleep_kd.data.ingest --source NAME --root DIR --out FILE.h5``."""

from __future__ import annotations

import argparse
import sys

from sleep_kd.data.ingest.pipeline import ingest
from sleep_kd.data.ingest.sources import list_sources
from sleep_kd.allocator import keep_freed_memory
from sleep_kd.errors import cli_entry


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sleep_kd.data.ingest",
        description="Turn PSG recordings into one HDF5 cohort file (EEG, ECG, scored epochs).",
    )
    parser.add_argument("--source", required=True, choices=list_sources(), help="recording layout")
    parser.add_argument("--root", required=True, help="folder holding the recordings")
    parser.add_argument("--out", required=True, help="cohort file to write (FILE.h5)")
    parser.add_argument("--sfreq", type=float, default=200.0, help="stored rate in Hz (default 200)")
    parser.add_argument("--workers", type=int, default=1, help="reader processes (default 1)")
    parser.add_argument("--strict", action="store_true", help="stop at the first bad recording")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    group = parser.add_argument_group("source options")
    group.add_argument("--subsets", nargs="+", help="mass: subset folders to read (default all)")
    group.add_argument("--eeg", help="edf: EEG channel, or 'A - B' for a derivation")
    group.add_argument("--ecg", help="edf: ECG channel or derivation (optional)")
    group.add_argument("--invert-ecg", action="store_true", help="edf: multiply the ECG by -1")
    group.add_argument("--epoch-s", type=float, help="edf: epoch length of one-label-per-line text hypnograms (s)")
    group.add_argument("--subject-regex", help="edf: regex whose first group is the subject id")
    return parser


def source_options(args: argparse.Namespace) -> dict:
    """The source options the user actually gave (a source rejects ones it does not take)."""
    names = ("subsets", "eeg", "ecg", "invert_ecg", "epoch_s", "subject_regex")
    return {name: getattr(args, name) for name in names if getattr(args, name) not in (None, False)}


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    keep_freed_memory()  # reuse freed signal buffers instead of faulting fresh pages (workers inherit it)
    summary = ingest(args.source, args.root, args.out, sfreq=args.sfreq, workers=args.workers,
                     strict=args.strict, progress=not args.no_progress, **source_options(args))
    print(summary.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
