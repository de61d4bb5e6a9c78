"""Ingest speed: hours of PSG per second of ``sleep_kd.data.ingest`` over MNE's bare EDF read.

``python -m bench.ingest [--quick]``

On a synthetic MASS-like cohort (256 Hz EDF), rounds alternate: ingest to HDF5 at 100 Hz with one
worker, and ``mne.io.read_raw_edf(..., preload=True)`` of the same PSG files. The figure is
ingest hours/s over MNE hours/s (goal >= 0.5), on 4 nights. Scaling: with ``workers=2``, seconds
for 4 recordings over seconds for 2, and 8 over 4 (linear = 2.0; below it, fixed start-up costs
are being spread over more nights); 4 recordings with 1 worker over 2 workers; and the
machine's own ceiling for that: two independent single-worker ingests of 2 nights each, run at
the same time, against one of all 4. ``pool_over_ceiling`` near 1.0 means the worker pool costs
nothing beyond what the machine allows. Two probes of the machine itself: MNE's bare read of the
same 4 nights in two processes at once, against one (``machine_mne_read_two_procs``), and pure
computation (hashing a buffer in memory) the same way (``machine_compute_two_procs``): on the
2-vCPU VM the second reaches ~1.9 while the first stays near 1.0, so what caps ingest workers
there is reading and converting fresh memory, not the pool.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
from pathlib import Path

from bench.common import interleaved, median, paired_ratio, record, temp_dir


def mne_read(edf_files: list[Path]) -> None:
    """MNE's bare read of every PSG file, data loaded."""
    import mne

    for path in edf_files:
        mne.io.read_raw_edf(path, preload=True, verbose="error")


_calls = itertools.count()


def ingest_into(edf_dir: Path, out: Path, *, workers: int) -> None:
    """Ingest at 100 Hz into a new file beside ``out`` (never replacing one: deleting the previous
    round's output is the file system's work, not ingest's; the temporary folder holds them all)."""
    from sleep_kd.data.ingest import ingest

    fresh = out.with_name(f"{out.stem}-{next(_calls)}{out.suffix}")
    ingest("mass", edf_dir, fresh, sfreq=100.0, workers=workers, progress=False)


def two_processes(halves: list[Path], work: Path) -> None:
    """Two independent single-worker ingests at once, one per half of the nights."""
    _together([(ingest_into, (half, work / f"half{i}.h5"), {"workers": 1}) for i, half in enumerate(halves)])


def _hash_work(seconds_of_work: int = 40) -> None:
    """Pure computation, no memory traffic: SHA-256 of one 1 MiB buffer, over and over."""
    import hashlib

    block = bytes(1 << 20)
    for _ in range(seconds_of_work * 20):
        hashlib.sha256(block).digest()


def _together(jobs: list[tuple]) -> None:
    """Run ``(function, args, kwargs)`` jobs in forked processes at once; raise if one fails."""
    from multiprocessing import get_context

    procs = [get_context("fork").Process(target=fn, args=args, kwargs=kwargs) for fn, args, kwargs in jobs]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
        if proc.exitcode:
            raise RuntimeError(f"a benchmark process failed with exit code {proc.exitcode}")


def subset(edf_dir: Path, dest: Path, n: int, *, skip: int = 0) -> Path:
    """A copy of ``n`` nights of a generated cohort from the ``skip``-th (both files of each), same layout."""
    nights = sorted(edf_dir.rglob("* PSG.edf"))[skip:skip + n]
    for psg in nights:
        target = dest / psg.parent.relative_to(edf_dir)
        target.mkdir(parents=True, exist_ok=True)
        for path in psg.parent.glob(psg.name.replace(" PSG.edf", " *")):
            shutil.copy(path, target / path.name)
    return dest


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short nights, one round (smoke run)")
    parser.add_argument("--hours", type=float, default=None, help="hours per night (default 1.0; quick 0.1)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    from sleep_kd.data.synthetic import generate_cohort

    hours = args.hours or (0.1 if args.quick else 1.0)
    rounds = 1 if args.quick else args.rounds
    with temp_dir("ingest") as tmp:
        work = Path(tmp)
        edf_dir = work / "edf"
        generate_cohort(edf_dir, n_subjects=8, hours=hours, seed=11, workers=2)
        two, four = subset(edf_dir, work / "two", 2), subset(edf_dir, work / "four", 4)
        psg = sorted(four.rglob("* PSG.edf"))
        halves = [two, subset(edf_dir, work / "other_two", 2, skip=2)]
        times = interleaved({
            "mne": lambda: mne_read(psg),
            "ingest1": lambda: ingest_into(four, work / "a.h5", workers=1),
            "two_w2": lambda: ingest_into(two, work / "b.h5", workers=2),
            "four_w2": lambda: ingest_into(four, work / "c.h5", workers=2),
            "eight_w2": lambda: ingest_into(edf_dir, work / "d.h5", workers=2),
            "two_procs": lambda: two_processes(halves, work),
            # The machine itself: MNE's bare read, and pure computation, in two processes at once.
            "mne_two_procs": lambda: _together([(mne_read, (psg[:2],), {}), (mne_read, (psg[2:],), {})]),
            "hash_serial": lambda: (_hash_work(), _hash_work()),
            "hash_two_procs": lambda: _together([(_hash_work, (), {}), (_hash_work, (), {})]),
        }, rounds=rounds)
    total_hours = 4 * hours
    figures = {
        "nights": 4, "hours_per_night": hours,
        # hours/s of ingest over hours/s of MNE, same files: t_mne / t_ingest per round.
        "ingest_over_mne": round(paired_ratio(times["mne"], times["ingest1"]), 3),
        "ingest_hours_per_s": round(total_hours / median(times["ingest1"]), 2),
        "mne_hours_per_s": round(total_hours / median(times["mne"]), 2),
        "w2_four_over_two_seconds": round(paired_ratio(times["four_w2"], times["two_w2"]), 3),
        "w2_eight_over_four_seconds": round(paired_ratio(times["eight_w2"], times["four_w2"]), 3),
        "four_w1_over_w2_seconds": round(paired_ratio(times["ingest1"], times["four_w2"]), 3),
        "ceiling_w1_over_two_procs": round(paired_ratio(times["ingest1"], times["two_procs"]), 3),
        "pool_over_ceiling": round(paired_ratio(times["two_procs"], times["four_w2"]), 3),
        # Speed-ups of two processes over one on the same work (2.0 = both cores): MNE's read of
        # the 4 nights, and hashing a buffer already in memory.
        "machine_mne_read_two_procs": round(paired_ratio(times["mne"], times["mne_two_procs"]), 3),
        "machine_compute_two_procs": round(paired_ratio(times["hash_serial"], times["hash_two_procs"]), 3),
    }
    return record("ingest", figures, quick=args.quick)


if __name__ == "__main__":
    main()
