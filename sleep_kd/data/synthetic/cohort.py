"""Write a synthetic PSG cohort laid out like MASS, with the true hypnograms kept beside it.

``DIR/SSk/<id> PSG.edf`` and ``DIR/SSk/<id> Base.edf`` per night, ``DIR/truth/<id>.csv``
(onset_s, duration_s, true_stage, scored_stage) and ``DIR/cohort.json`` describing the lot.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from sleep_kd.errors import InputError

from .edf_writer import write_base, write_psg
from .night import n_unscored, plan_night, simulate_night
from .stages import LABELS
from .truth import write_truth

MIN_EPOCHS = 10
SFREQ_RANGE = (100, 2048)  # Hz; whole numbers so EDF data records hold whole samples
MAX_SUBJECTS = 10_000  # MASS has 200, SHHS about 9,000
MAX_WORKERS = 256


def check_options(*, n_subjects: int, hours: float, sfreq: float, workers: int, seed: int = 0) -> None:
    """Raise :class:`InputError` naming the option that is out of range."""
    if int(n_subjects) != n_subjects or n_subjects < 1:
        raise InputError(f"subjects: expected a whole number >= 1, got {n_subjects}")
    if n_subjects > MAX_SUBJECTS:
        raise InputError(f"subjects: expected at most {MAX_SUBJECTS} nights, got {n_subjects}")
    if int(seed) != seed or seed < 0:
        raise InputError(f"seed: expected a whole number >= 0, got {seed}")
    if not np.isfinite(hours) or hours * 3600.0 < MIN_EPOCHS * 30.0 or hours > 24.0:
        shortest = MIN_EPOCHS * 30 / 3600
        raise InputError(f"hours: expected a night between {shortest:.3f} and 24 hours, got {hours}")
    if int(sfreq) != sfreq or not SFREQ_RANGE[0] <= sfreq <= SFREQ_RANGE[1]:
        lo, hi = SFREQ_RANGE
        raise InputError(f"sfreq: expected a whole number of Hz in {lo}..{hi}, got {sfreq}")
    if int(workers) != workers or not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"workers: expected a whole number in 1..{MAX_WORKERS}, got {workers}")


def _write_night(out_dir: Path, index: int, seed: int, hours: float, sfreq: float) -> dict:
    """Simulate and write subject ``index``; return its entry for cohort.json."""
    plan = plan_night(index)
    night = simulate_night(plan, seed=seed, hours=hours, sfreq=sfreq)
    folder = out_dir / plan.subset
    psg, base = f"{plan.record_id} PSG.edf", f"{plan.record_id} Base.edf"
    write_psg(folder / psg, night.channels, sfreq=sfreq, record_id=plan.record_id)
    texts = [f"Sleep stage {LABELS[s]}" for s in night.scored]
    write_base(folder / base, night.onsets, np.full(len(texts), plan.epoch_s), texts,
               record_id=plan.record_id)
    write_truth(out_dir / "truth" / f"{plan.record_id}.csv", onsets=night.onsets, epoch_s=night.plan.epoch_s,
                true_labels=night.true, scored_labels=night.scored)
    return {"id": plan.record_id, "index": index, "subset": plan.subset, "standard": plan.standard,
            "epoch_s": plan.epoch_s, "channels": [c.label for c in night.channels],
            "psg": f"{plan.subset}/{psg}", "base": f"{plan.subset}/{base}",
            "truth": f"truth/{plan.record_id}.csv", "start_offset_s": night.start_offset_s,
            "duration_s": len(night.channels[0].data) / sfreq, "n_epochs": len(night.true),
            "n_unscored": n_unscored(night), "agreement": round(night.agreement, 4),
            "subject": night.subject}


def generate_cohort(out_dir: str | Path, *, n_subjects: int, hours: float, seed: int,
                    sfreq: float = 256.0, workers: int = 1) -> list[Path]:
    """Write a synthetic MASS-like cohort.

    Parameters
    ----------
    out_dir : path
        Created if missing; files of the same names are overwritten.
    n_subjects : int
        Nights to write (one per subject), spread over SS1..SS5 in turn.
    hours : float
        Scored length of each night, hours.
    seed : int
        Subject ``k`` depends only on ``seed`` and ``k``: the same seed gives identical files.
    sfreq : float
        Sampling rate of every channel, Hz (a whole number).
    workers : int
        Processes to simulate nights in parallel; the files do not depend on it.

    Returns
    -------
    list of Path
        The PSG files, in subject order.

    Examples
    --------
    >>> paths = generate_cohort("/tmp/cohort", n_subjects=5, hours=1.0, seed=0)  # doctest: +SKIP
    """
    check_options(n_subjects=n_subjects, hours=hours, sfreq=sfreq, workers=workers, seed=seed)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: expected a folder for the cohort, found a file")
    try:
        for folder in sorted({plan_night(i).subset for i in range(n_subjects)}) + ["truth"]:
            (out_dir / folder).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"{out_dir}: cannot write the cohort there ({error.strerror or error})") from None
    jobs = [(out_dir, i, int(seed), float(hours), float(sfreq)) for i in range(n_subjects)]
    if workers > 1 and n_subjects > 1:
        with ProcessPoolExecutor(max_workers=min(workers, n_subjects)) as pool:
            entries = list(pool.map(_write_night, *zip(*jobs)))
    else:
        entries = [_write_night(*job) for job in jobs]
    summary = {"generator": "sleep_kd.data.synthetic", "seed": int(seed), "sfreq": float(sfreq),
               "hours": float(hours), "n_subjects": int(n_subjects), "recordings": entries}
    (out_dir / "cohort.json").write_text(json.dumps(summary, indent=1) + "\n")
    return [out_dir / e["psg"] for e in entries]
