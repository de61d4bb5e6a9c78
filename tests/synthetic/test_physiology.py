"""The signals carry the stage physiology: EEG rhythms, heart rate and its variability."""

from __future__ import annotations

import numpy as np

from sleep_kd.data.synthetic import plan_night, simulate_night
from sleep_kd.baselines import probe as P
from sleep_kd.data.synthetic.stages import LABEL_2, LABEL_3, LABEL_4, LABEL_R, LABEL_W

FS = 128.0
DELTA, ALPHA, SIGMA = 0, 3, 4  # columns of probe.BANDS_HZ


def _groups(night):
    """True epochs per stage; R&K stages 3 and 4 together as deep sleep (under LABEL_3)."""
    deep = (night.true == LABEL_3) | (night.true == LABEL_4)
    return {LABEL_W: night.true == LABEL_W, LABEL_2: night.true == LABEL_2, LABEL_3: deep,
            LABEL_R: night.true == LABEL_R}


def _eeg_by_stage(night):
    """Median band power per stage (medians, so the few artefact epochs do not dominate)."""
    power = np.exp(P.band_powers(night, FS))
    return {lab: np.median(power[sel], axis=0) for lab, sel in _groups(night).items()}


def _rr_by_stage(night):
    feats = P.rr_features(night, FS)
    return {lab: np.nanmedian(feats[sel], axis=0) for lab, sel in _groups(night).items()}


def test_alpha_is_highest_in_wake(nights):
    for night in nights:
        p = _eeg_by_stage(night)
        assert p[LABEL_W][ALPHA] > 1.5 * max(p[s][ALPHA] for s in (LABEL_2, LABEL_3, LABEL_R))


def test_spindle_band_power_peaks_in_n2(nights):
    for night in nights:
        p = _eeg_by_stage(night)
        assert p[LABEL_2][SIGMA] > 1.3 * p[LABEL_3][SIGMA]
        assert p[LABEL_2][SIGMA] > 2.0 * p[LABEL_R][SIGMA]


def test_delta_is_highest_in_n3(nights):
    for night in nights:
        p = _eeg_by_stage(night)
        assert p[LABEL_3][DELTA] > 2.0 * max(p[s][DELTA] for s in (LABEL_W, LABEL_2, LABEL_R))


def test_heart_rate_falls_from_wake_to_deep_sleep_on_average(nights):
    # Per night the stage effect is faint and individual (issue 13); over nights it shows.
    hr = np.mean([[v[0] - _rr_by_stage(n)[LABEL_2][0] for k, v in sorted(_rr_by_stage(n).items())]
                  for n in nights], axis=0)
    by = dict(zip(sorted(_groups(nights[0])), hr))
    assert by[LABEL_W] > by[LABEL_2] > by[LABEL_3]


def test_rmssd_is_higher_in_deep_sleep_than_in_wake(nights):
    # RSA is strongest in deep sleep; beat-to-beat (RMSSD) follows it (column 2).
    rmssd = np.mean([[_rr_by_stage(n)[s][2] for s in (LABEL_W, LABEL_3)] for n in nights], axis=0)
    assert rmssd[1] > rmssd[0]


def test_r_peak_detector_finds_the_simulated_heart_rate(nights):
    night = nights[0]
    peaks = P.r_peaks(P.ecg_upright(night), FS)
    bpm = 60.0 * len(peaks) / (len(night.channels[0].data) / FS)
    assert 40.0 < bpm < 100.0
    assert abs(bpm - night.subject["ecg"]["rest_bpm"]) < 12.0


def test_eeg_identifies_the_stage_far_better_than_ecg():
    nights = [simulate_night(plan_night(i), seed=21, hours=2.5, sfreq=FS) for i in range(10)]
    # Epoch alone. 2.5-h nights are mostly wake-to-deep-sleep, where the heart tells most (the
    # full-night figures, kappa about 0.12, are in docs/data.md).
    scores = P.probe(nights, FS, context=0)
    assert scores["eeg_kappa_true"] > 0.75  # a good teacher
    assert scores["eeg_kappa_true"] > scores["ecg_kappa_true"] + 0.3
    assert scores["eeg_kappa"] > scores["ecg_kappa"] + 0.25
    assert 0.05 < scores["ecg_kappa"] < 0.6  # real, but faint, stage information in the heart
