"""The heart-rate process (issue 13): each effect is present, has the configured size, and stays
within bounds; the ECG shows ectopic beats and lost signal where they were put."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import signal

from sleep_kd.baselines.features import r_peaks
from sleep_kd.data.synthetic import ecg, heart
from sleep_kd.data.synthetic.hypnogram import simulate_hypnogram
from sleep_kd.data.synthetic.noise import Timeline
from sleep_kd.data.synthetic.stages import CELL_S, N2, N3, REM, W

FS = 100.0


def _timeline(state) -> Timeline:
    state = np.asarray(state, dtype=np.int8)
    return Timeline(state, np.zeros(len(state)), 0.0, int(len(state) * CELL_S * FS), FS)


def _night_timeline(seed: int = 0, hours: float = 8.0) -> Timeline:
    return _timeline(simulate_hypnogram(np.random.default_rng(seed), hours=hours).state)


def _quiet(subject: heart.EcgSubject, **changes) -> heart.EcgSubject:
    """A subject with every non-stage effect switched off, then ``changes``."""
    base = dict(decline_bpm_per_h=0.0, drift_bpm=0.0, arousals_per_h=0.0, apnea=False, ectopic_per_h=0.0,
                noisy_per_h=0.0, lost_per_h=0.0)
    return replace(subject, **{**base, **changes})


@pytest.fixture(scope="module")
def subject():
    return heart.EcgSubject.draw(np.random.default_rng(3))


NO_PHASIC = heart.HeartRecipe(phasic_rem_per_min=0.0)


def _rr_series(beat_times: np.ndarray, grid_hz: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """RR intervals (s) resampled on an even grid: (t, rr)."""
    t = np.arange(beat_times[1], beat_times[-1], 1.0 / grid_hz)
    return t, np.interp(t, beat_times[1:], np.diff(beat_times))


def test_stage_offsets_come_through_with_the_lag(subject):
    s = _quiet(subject, stage_offset_bpm=(6.0, 2.0, 0.0, -3.0, 3.0), lag_s=30.0)
    state = np.repeat([N2, W, N2, N3, N2, REM], 60)  # 10 min each
    parts = heart.rate_components(np.random.default_rng(0), _timeline(state), s, NO_PHASIC)
    stage = parts["stage"]
    t = heart.grid(_timeline(state))
    for k, (st, expected) in enumerate(zip((N2, W, N2, N3, N2, REM), (0.0, 6.0, 0.0, -3.0, 0.0, 3.0))):
        late = (t > (k + 0.5) * 600.0) & (t < (k + 1) * 600.0)  # settled: 5 min after the change
        assert stage[late].mean() == pytest.approx(expected, abs=0.1)
    # One time constant after the step into W the rate has covered about 1 - 1/e of the step
    # (the 10 s cell grid moves it by up to one cell: 1 - e^(-40/30) = 0.74), three: nearly all.
    step = lambda after: stage[np.searchsorted(t, 600.0 + after)] / 6.0  # noqa: E731
    assert 0.55 < step(30.0) < 0.78
    assert step(0.0) < 0.3 and step(90.0) > 0.93


def test_night_long_decline_has_the_configured_slope(subject):
    timeline = _night_timeline(1)
    s = _quiet(subject, decline_bpm_per_h=-1.5)
    rng = np.random.default_rng(1)
    parts = heart.rate_components(rng, timeline, s, NO_PHASIC)
    t = heart.grid(timeline)
    assert np.polyfit(t / 3600.0, parts["decline"], 1)[0] == pytest.approx(-1.5, abs=1e-9)
    # In the beats too: epoch heart rate against time, with one level per state.
    beats = ecg.beat_times(rng, heart.heart_rate(rng, timeline, s, NO_PHASIC)[0])
    edges = np.arange(0.0, t[-1] - 60.0, 30.0)
    counts = np.histogram(beats, edges)[0]
    hr = 2.0 * counts  # beats per 30 s epoch -> bpm
    mid = (edges[:-1] + 15.0)
    state = timeline.state[timeline.cell_of(mid)]
    design = np.column_stack([mid / 3600.0] + [(state == k).astype(float) for k in range(5)])
    slope = np.linalg.lstsq(design, hr, rcond=None)[0][0]
    assert slope == pytest.approx(-1.5, abs=0.3)


def test_drift_has_the_configured_size_and_is_slow(subject):
    timeline = _night_timeline(2)
    s = _quiet(subject, drift_bpm=3.0)
    drift = heart.rate_components(np.random.default_rng(2), timeline, s)["drift"]
    assert 1.5 < drift.std() < 4.5
    # Slow: almost all its power below 1/60 Hz.
    f, p = signal.welch(drift, fs=heart.GRID_HZ, nperseg=4096)
    assert p[f < 1 / 60].sum() > 0.9 * p.sum()


def test_arousal_surges_come_at_the_configured_rate_and_height(subject):
    timeline = _timeline(np.full(8 * 360, N2))
    s = _quiet(subject, arousals_per_h=20.0)
    surge = heart.rate_components(np.random.default_rng(4), timeline, s)["arousal"]
    peaks, _ = signal.find_peaks(surge, height=2.0, distance=int(20 * heart.GRID_HZ))
    assert 8 * 20 * 0.7 < len(peaks) < 8 * 20 * 1.3  # some surges overlap
    lo, hi = heart.DEFAULT_RECIPE.arousal_bpm_range
    assert surge.max() < 2.5 * hi and np.median(surge[peaks]) > lo


def test_apnea_night_has_cyclic_rr_variation_at_001_to_005_hz(subject):
    timeline = _night_timeline(5)
    cycle = 40.0
    spectra = {}
    for apnea in (False, True):
        s = _quiet(subject, apnea=apnea, apnea_burden=0.5, apnea_cycle_s=cycle, apnea_bpm=8.0, drift_bpm=1.0,
                   arousals_per_h=10.0)
        rng = np.random.default_rng(5)
        beats = ecg.beat_times(rng, heart.heart_rate(rng, timeline, s)[0])
        _, rr = _rr_series(beats)
        f, p = signal.welch(rr - rr.mean(), fs=4.0, nperseg=2048)
        spectra[apnea] = (f, p)
    f, p_apnea = spectra[True]
    band = (f >= 0.01) & (f <= 0.05)
    # The same subject and night without apnea: the band holds stage changes, drift and
    # arousals, but much less power.
    assert p_apnea[band].sum() > 1.5 * spectra[False][1][band].sum()
    near = np.abs(f - 1 / cycle) < 0.2 / cycle
    assert p_apnea[near].sum() > 3.0 * spectra[False][1][near].sum()
    # Its peak is at the apnea cycle (1/40 s = 0.025 Hz).
    assert f[band][np.argmax(p_apnea[band])] == pytest.approx(1 / cycle, rel=0.25)


def test_apnea_share_of_subjects_follows_the_recipe():
    rng = np.random.default_rng(6)
    share = np.mean([heart.EcgSubject.draw(rng).apnea for _ in range(400)])
    assert abs(share - heart.DEFAULT_RECIPE.apnea_share) < 0.07


def test_rem_is_more_irregular_than_deep_sleep(subject):
    # Phasic surges and more low-frequency variability: HR varies more in REM than in N3.
    timeline = _timeline(np.repeat([N3, REM], 180))
    rng = np.random.default_rng(7)
    beats = ecg.beat_times(rng, heart.heart_rate(rng, timeline, _quiet(subject))[0])
    hr = 60.0 / np.diff(beats)
    n3, rem = hr[beats[1:] < 1800.0], hr[beats[1:] > 1800.0 + 300.0]
    assert rem.std() > 1.3 * n3.std()


@pytest.mark.parametrize("rate", [30.0, 200.0])
def test_ectopic_beats_appear_at_the_configured_rate(subject, rate):
    rng = np.random.default_rng(8)
    times = np.cumsum(np.full(8 * 3600, 1.0))  # 8 h at 60 bpm
    beats = ecg.add_ectopic_beats(rng, times, replace(subject, ectopic_per_h=rate))
    expected = rate * 8
    assert abs(beats.ectopic.sum() - expected) < 4 * np.sqrt(expected)
    k = np.flatnonzero(beats.ectopic)
    coupling = (beats.times[k] - beats.times[k - 1]) / (times[k] - times[k - 1])
    lo, hi = ecg.ECTOPIC_COUPLING
    assert np.all((coupling >= lo) & (coupling <= hi))
    assert np.all(beats.times[k + 1] == times[k + 1])  # the compensatory pause
    assert not np.any(beats.ectopic[1:] & beats.ectopic[:-1]) and np.all(np.diff(beats.times) > 0)


def test_lost_signal_is_flat_and_has_no_beats(subject):
    timeline = _timeline(np.full(60, N2))  # 10 min
    rng = np.random.default_rng(9)
    beat_hz, breath = heart.heart_rate(rng, timeline, _quiet(subject))
    beats = ecg.Beats(ecg.beat_times(rng, beat_hz), np.zeros(0, bool))
    beats = ecg.Beats(beats.times, np.zeros(len(beats.times), bool))
    x = ecg.render(rng, timeline, subject, beats, breath, troubles=([(60.0, 90.0)], [(300.0, 400.0)]))
    lost = x[int(300 * FS):int(400 * FS)]
    assert lost.std() < 0.01
    peaks = r_peaks(x, FS)
    assert not np.any((peaks > 301.0) & (peaks < 399.0))
    assert np.sum(peaks < 290.0) > 0.8 * np.sum(beats.times < 290.0)  # the noisy span stays readable
    assert x[int(60 * FS):int(90 * FS)].std() > x[int(120 * FS):int(150 * FS)].std()


def test_rate_stays_in_physiological_bounds():
    rng = np.random.default_rng(10)
    for seed in range(6):
        s = heart.EcgSubject.draw(rng)
        beat_hz, _ = heart.heart_rate(np.random.default_rng(seed), _night_timeline(seed), s)
        assert 35.0 / 60 * 0.8 < beat_hz.min() and beat_hz.max() < 150.0 / 60 * 1.2


def test_same_stream_same_heart(subject):
    timeline = _night_timeline(11, hours=1.0)
    a = heart.heart_rate(np.random.default_rng(12), timeline, subject)[0]
    b = heart.heart_rate(np.random.default_rng(12), timeline, subject)[0]
    c = heart.heart_rate(np.random.default_rng(13), timeline, subject)[0]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_apnea_subject_awake_all_night_has_no_apnea_cycles(subject):
    timeline = _timeline(np.full(60, W))
    s = replace(subject, apnea=True)
    assert len(heart.apnea_cycles(np.random.default_rng(14), timeline, s)) == 0
