"""The embedded default cohort: a synthetic PSG cohort, ingested once into a cache folder and reused.

Built on first use by ``train_loop.py`` when no ``--data`` is given: the synthetic generator
writes MASS-like EDF nights, the real MASS ingest turns them into one HDF5 file. The cache folder
is ``$SLEEP_KD_CACHE`` or ``~/.cache/sleep_kd``; its name carries every number that shapes the
data, so a change of recipe builds a new cohort instead of reusing a stale one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Callable

# Version 2: full nights and a heart calibrated against real beat annotations.
GENERATOR_VERSION = 2

# 24 full nights (8 h from lights-off, about 23,000 scored epochs, 192 h of signal): enough
# subjects for subject-wise folds and realistic stage shares, small enough for the six-strategy
# demo to train in <= 10 min on 2 CPU cores when training samples a subset of windows per epoch
# (docs/data.md, "The embedded default cohort"). 100 Hz is the rate the models read.
RECIPE = {"subjects": 24, "hours": 8.0, "seed": 2026, "edf_sfreq": 256.0, "sfreq": 100.0}


def generator_digest() -> str:
    """8 hex digits of the generator's tunable parameters (the heart recipe, the hypnogram's
    latencies): a re-tuned generator gets a new cache folder even at the same version."""
    from sleep_kd.data.synthetic import hypnogram
    from sleep_kd.data.synthetic.heart import DEFAULT_RECIPE

    text = json.dumps({"heart": asdict(DEFAULT_RECIPE), "sleep_latency_min": hypnogram.SLEEP_LATENCY_MIN,
                       "first_cycle_min": hypnogram.FIRST_CYCLE_MIN}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def cache_root() -> Path:
    """Where generated cohorts live: ``$SLEEP_KD_CACHE`` or ``~/.cache/sleep_kd``."""
    return Path(os.environ.get("SLEEP_KD_CACHE", Path.home() / ".cache" / "sleep_kd"))


def default_cohort_path(recipe: dict | None = None) -> Path:
    """The HDF5 file of the default cohort (which may not be built yet)."""
    r = {**RECIPE, **(recipe or {})}
    name = (f"synthetic-v{GENERATOR_VERSION}-{generator_digest()}-n{r['subjects']}-h{r['hours']:g}"
            f"-s{r['seed']}-{r['sfreq']:g}hz")
    return cache_root() / name / "cohort.h5"


def ensure_default_cohort(*, recipe: dict | None = None, announce: Callable[[str], None] = print,
                          workers: int | None = None) -> Path:
    """Return the default cohort's HDF5 file, generating and ingesting it first if it is missing.

    A lock file keeps two processes from building it at once; the EDF files are removed once the
    HDF5 file is written (only the HDF5 file and the true hypnograms are kept).
    """
    from sleep_kd.data.ingest import ingest
    from sleep_kd.data.synthetic import generate_cohort

    r = {**RECIPE, **(recipe or {})}
    path = default_cohort_path(r)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    workers = workers or min(2, os.cpu_count() or 1)
    with open(path.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.is_file():  # another process built it while we waited
            return path
        announce(f"[sleep_kd] building the default synthetic cohort ({r['subjects']} subjects x {r['hours']:g} h) "
                 f"in {path.parent} (once)")
        edf_dir = path.parent / "edf"
        shutil.rmtree(edf_dir, ignore_errors=True)
        generate_cohort(edf_dir, n_subjects=r["subjects"], hours=r["hours"], seed=r["seed"], sfreq=r["edf_sfreq"],
                        workers=workers)
        ingest("mass", edf_dir, path, sfreq=r["sfreq"], workers=workers, progress=False)
        truth = edf_dir / "truth"
        if truth.is_dir():
            shutil.rmtree(path.parent / "truth", ignore_errors=True)
            shutil.move(str(truth), path.parent / "truth")
        for name in ("cohort.json",):
            if (edf_dir / name).is_file():
                shutil.move(str(edf_dir / name), path.parent / name)
        shutil.rmtree(edf_dir, ignore_errors=True)
    return path
