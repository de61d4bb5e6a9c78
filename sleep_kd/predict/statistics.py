"""Sleep statistics of a hypnogram, as the AASM scoring manual reports them.

Definitions (``epoch_s``-second epochs from lights-off to lights-on; minutes unless said):

- ``TIB_min``, time in bed: lights-off to lights-on, every epoch (the AASM's total recording time).
- ``TST_min``, total sleep time: epochs of any sleep stage (every class but W).
- ``SE_pct``, sleep efficiency: 100 * TST / TIB.
- ``SOL_min``, sleep onset latency: lights-off to the first epoch of any sleep stage
  (AASM sleep latency); ``None`` when the night holds no sleep.
- ``WASO_min``, wake after sleep onset: W from sleep onset to lights-on, i.e. TIB - SOL - TST
  (the AASM's; it includes wake after the final awakening, which YASA's SPT - TST leaves out).
- ``REM_latency_min``: sleep onset to the first REM epoch (AASM stage R latency, from sleep onset,
  not from lights-off); ``None`` without REM.
- ``<stage>_min`` for every class, ``<stage>_pct_tst`` for each sleep class (percent of TST) and
  ``W_pct_tib`` (percent of TIB).
- ``n_awakenings``: runs of one or more W epochs after sleep onset (the final awakening counts).
- ``n_transitions``: epoch-to-epoch changes of stage, lights-off to lights-on.

With 3 classes (W, NREM, REM) or 4 (W, Light, Deep, REM) only these classes' figures exist:
there is no N1 or N3 percentage to report from a 3-class model.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

WAKE_NAMES = ("W", "Wake")
REM_NAMES = ("REM", "R")


def _find(class_names: Sequence[str], candidates: Sequence[str]) -> int | None:
    return next((i for i, name in enumerate(class_names) if name in candidates), None)


def sleep_statistics(stages: np.ndarray, class_names: Sequence[str], *, epoch_s: float = 30.0) -> dict:
    """Sleep statistics (see the module docstring) of one hypnogram.

    Parameters
    ----------
    stages : int array (n_epochs,) of class indices into ``class_names``, lights-off to lights-on.
    class_names : the classes, one of which is ``W`` (REM, if any, ``REM`` or ``R``).
    epoch_s : seconds per epoch.

    Returns
    -------
    dict of floats (minutes, percent) and ints (counts); ``None`` where a latency does not exist.

    Examples
    --------
    >>> s = sleep_statistics(np.array([0, 0, 1, 1, 0, 3, 1, 0]), ("W", "Light", "Deep", "REM"), epoch_s=60)
    >>> s["TST_min"], s["SOL_min"], s["WASO_min"], s["REM_latency_min"], s["n_awakenings"]
    (4.0, 2.0, 2.0, 3.0, 2)
    """
    stages = np.asarray(stages, dtype=np.int64)
    wake = _find(class_names, WAKE_NAMES)
    if wake is None:
        raise ValueError(f"classes {list(class_names)} have no wake class (expected one named W)")
    rem = _find(class_names, REM_NAMES)
    minutes = epoch_s / 60.0
    asleep = stages != wake
    tib = stages.size * minutes
    tst = int(asleep.sum()) * minutes
    onset = int(np.argmax(asleep)) if asleep.any() else None
    stats: dict = {"TIB_min": tib, "TST_min": tst, "SE_pct": 100.0 * tst / tib if tib else 0.0,
                   "SOL_min": None if onset is None else onset * minutes,
                   "WASO_min": None if onset is None else tib - onset * minutes - tst}
    if rem is not None:
        first_rem = np.flatnonzero(stages == rem)
        stats["REM_latency_min"] = (None if onset is None or first_rem.size == 0
                                    else (int(first_rem[0]) - onset) * minutes)
    after = ~asleep[onset:] if onset is not None else np.zeros(0, dtype=bool)
    stats["n_awakenings"] = int(np.count_nonzero(after[1:] & ~after[:-1])) if after.size else 0
    stats["n_transitions"] = int(np.count_nonzero(np.diff(stages)))
    for index, name in enumerate(class_names):
        stats[f"{name}_min"] = int(np.count_nonzero(stages == index)) * minutes
    for index, name in enumerate(class_names):
        if index != wake:
            stats[f"{name}_pct_tst"] = 100.0 * stats[f"{name}_min"] / tst if tst else 0.0
    stats[f"{class_names[wake]}_pct_tib"] = 100.0 * stats[f"{class_names[wake]}_min"] / tib if tib else 0.0
    return stats
