"""Synthetic PSG cohorts laid out like MASS, for tests and the demo.

``generate_cohort`` writes EDF nights (``<id> PSG.edf`` + ``<id> Base.edf`` per subset folder)
whose EEG and ECG carry stage physiology, scored by a simulated human scorer, with the true
hypnograms kept in ``truth/``. The EEG shows the stage clearly; the heart (:mod:`.heart`) only
faintly, slowly and differently in each subject, calibrated against real beat annotations
(``docs/data.md``). The command line is ``sleep-kd synthesize`` (or ``python -m sleep_kd.data.synthetic``).
"""

from __future__ import annotations

from .cohort import generate_cohort
from .hypnogram import Hypnogram, simulate_hypnogram
from .night import SUBSETS, plan_night, simulate_night

__all__ = ["generate_cohort", "simulate_hypnogram", "Hypnogram", "plan_night", "simulate_night",
           "SUBSETS"]
