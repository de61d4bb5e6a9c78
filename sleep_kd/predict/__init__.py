"""Stage nights nobody has scored: ``python -m sleep_kd.predict CKPT NIGHT.edf [...] --out DIR``.

Per night, into ``DIR``: ``<name>.hypnogram.csv`` (onset_s, duration_s, stage, p_<class>...),
``<name>.hypnogram.edf`` (EDF+ annotations ``Sleep stage W``...), ``<name>.png`` (hypnogram over
hypnodensity), ``<name>.stats.json`` (sleep statistics, :mod:`sleep_kd.predict.statistics`) and,
with a scored hypnogram, ``<name>.agreement.json``; ``DIR/summary.csv`` holds one row per night
(:mod:`sleep_kd.predict.outputs`: nothing a user made is replaced, earlier rows are kept).

From Python::

    stager = load_stager("runs/.../ecg_base/best")
    raw = read_night("night.edf", modality=stager.modality, trained=stager.leads)  # leads as training read them
    windows = prepare_windows(raw, sfreq=stager.sfreq, window_s=stager.window_s, epoch_s=30.0,
                              normalization=stager.normalization)
    proba = score_night(stager.model, windows, precision=stager.precision)  # (n_epochs, n_classes)
"""

from sleep_kd.predict.night import prepare_windows, read_night
from sleep_kd.predict.run import NightOptions, stage_night, stage_nights
from sleep_kd.predict.scoring import Stager, load_stager, score_night
from sleep_kd.predict.statistics import sleep_statistics

__all__ = ["NightOptions", "Stager", "load_stager", "prepare_windows", "read_night", "score_night",
           "sleep_statistics", "stage_night", "stage_nights"]
