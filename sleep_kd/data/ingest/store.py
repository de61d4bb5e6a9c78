"""Deprecated alias: the cohort file lives in :mod:`sleep_kd.data.cohort_file` (one home).

Kept so ``from sleep_kd.data.ingest.store import ...`` in callers outside the data package
(``sleep_kd/data/splits.py``, ``scripts/kd_seeds.py``) keeps working until they import the new name.
"""

from sleep_kd.data.cohort_file import (  # noqa: F401
    CACHE_BYTES, FORMAT, FORMAT_VERSION, MODALITIES, CohortWriter, EpochTable, StoredRecording,
    cohort_modalities, open_cohort, read_epochs, recording_attrs, recording_ids, require_modalities,
)
