"""Ingest: turn PSG recordings (MASS, any EDF + hypnogram, NSRR cohorts) into one HDF5 cohort file.

``python -m sleep_kd.data.ingest --source mass --root DIR --out cohort.h5``; from Python,
:func:`ingest`; ``--manifest FILE.csv`` lists the nights explicitly. The file layout is described in
:mod:`sleep_kd.data.cohort_file`.
"""

from __future__ import annotations

from sleep_kd.data.ingest.pipeline import IngestSummary, ingest
from sleep_kd.data.ingest.sources import list_sources, register_source

__all__ = ["IngestSummary", "ingest", "list_sources", "register_source"]
