"""The heart-rate process: how fast the heart beats, second by second, through a night.

Stage information in a real heart is faint, slow and individual (MIT-BIH Polysomnographic
Database, PhysioNet: per-stage means within a few bpm of the night's median, within-stage SD of
3-6 bpm, a 4-class logistic regression on heart-rate features at kappa 0.14-0.23). The rate here
is therefore a sum of named components in bpm on a 4 Hz grid (:func:`rate_components`), of which
the stage is only one:

``stage``    the subject's own response to the state, lagged (some subjects barely respond);
``decline``  the slow fall of heart rate across the night;
``drift``    slow wandering within a stage (minutes to tens of minutes);
``arousal``  short surges at arousals, which the scorer mostly does not mark as a stage change;
``apnea``    cyclic variation of heart rate with sleep apnea, in a share of subjects;
``phasic``   surges of phasic REM.

On top come fractional beat-to-beat modulations: low-frequency variability and respiratory
sinus arrhythmia (strongest in deep sleep), both scaled per subject (:func:`heart_rate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from .noise import Timeline, band, shaped_noise
from .stages import CELL_S, W

GRID_HZ = 4.0  # the rate process is built on a 4 Hz grid
# Per state W, N1, N2, N3, R: the beat-to-beat modulations (fractions of the rate).
LF_VARIABILITY = (0.03, 0.025, 0.02, 0.012, 0.035)  # RMS, 0.02-0.15 Hz
RSA_DEPTH = (0.016, 0.022, 0.027, 0.032, 0.015)  # swing with each breath
BREATH_HZ = (0.27, 0.25, 0.24, 0.23, 0.26)
BREATH_IRREGULARITY = (0.18, 0.12, 0.07, 0.03, 0.22)


@dataclass(frozen=True)
class HeartRecipe:
    """How the hearts of a cohort are drawn (one :class:`EcgSubject` per night from these)."""

    stage_offset_bpm: tuple = (8.0, 2.0, 0.0, -3.0, 3.0)
    """Mean heart rate per state W, N1, N2, N3, R above N2, for a subject of reactivity 1.
    Healthy sleepers: wake highest, NREM falling with depth, REM near wake (Trinder et al. 2001,
    J Sleep Res 10:253); apnea patients show offsets of only 1-3 bpm (MIT-BIH PSG)."""
    reactivity_range: tuple = (0.2, 1.6)
    """Uniform range of the factor on ``stage_offset_bpm``: how strongly (and whether) a
    subject's heart rate follows the stage."""
    stage_offset_spread_bpm: float = 1.0
    """SD of each subject's own deviation from the stage offsets (bpm, per state)."""
    lag_s_range: tuple = (20.0, 60.0)
    """Time constant of the heart's response to a change of state, seconds."""
    decline_bpm_per_h: tuple = (-1.0, 0.6)
    """Mean and SD over subjects of the linear trend of heart rate across the night (bpm per
    hour): heart rate falls through the night apart from the stages, a circadian and
    sleep-duration effect (Burgess et al. 1997, Am J Physiol 273:R1761)."""
    drift_bpm_range: tuple = (1.5, 3.5)
    """Uniform range of the RMS of the slow within-stage drift, bpm."""
    drift_timescale_s: float = 600.0
    """Correlation time of the drift (Ornstein-Uhlenbeck), seconds."""
    arousals_per_h_range: tuple = (8.0, 24.0)
    """Uniform range of spontaneous arousals per hour of sleep (healthy adults: 10-20 per hour;
    Bonnet & Arand 2007, J Clin Sleep Med 3:133); most are too short to be scored as wake."""
    arousal_state_factor: tuple = (1.5, 1.3, 1.0, 0.4, 1.2)
    """Factor on the arousal rate per state W, N1, N2, N3, R (fewest out of deep sleep)."""
    arousal_bpm_range: tuple = (4.0, 16.0)
    """Uniform range of the peak heart-rate rise of one arousal, bpm; it peaks about 5 s after
    onset and is over in about 15-20 s (Sforza et al. 2000, Sleep 23:1; Bonnet & Arand 1997)."""
    phasic_rem_per_min: float = 0.6
    """Short surges per minute of REM (phasic REM, eye-movement bursts): irregular REM."""
    apnea_share: float = 0.3
    """Share of subjects with sleep apnea, whose heart rate varies cyclically with the
    apnea-arousal cycle (cyclic variation of heart rate; Guilleminault et al. 1984, Lancet 1:126)."""
    apnea_burden_range: tuple = (0.2, 0.6)
    """Uniform range of the share of sleep an apnea subject spends in runs of apneas."""
    apnea_cycle_s_range: tuple = (25.0, 80.0)
    """Uniform range of the apnea cycle length, seconds (0.0125-0.04 Hz)."""
    apnea_bpm_range: tuple = (5.0, 12.0)
    """Uniform range of the post-apnea heart-rate surge, bpm."""
    apnea_state_factor: tuple = (0.0, 1.0, 1.0, 0.3, 1.3)
    """Relative chance that an apnea run falls in each state (none awake, few in deep sleep,
    most in REM)."""
    ectopic_per_h_median: float = 5.0
    """Median over subjects of premature (ectopic) beats per hour (most healthy adults have a
    few to tens per hour at night)."""
    ectopic_per_h_sigma: float = 1.2
    """SD of log(ectopic beats per hour) over subjects."""
    noisy_per_h_range: tuple = (0.3, 2.5)
    """Uniform range of stretches of heavy electrode-motion noise per hour (5-60 s each)."""
    lost_per_h_range: tuple = (0.0, 0.3)
    """Uniform range of stretches of lost signal (lead off, 10 s - 3 min) per hour."""


DEFAULT_RECIPE = HeartRecipe()


@dataclass(frozen=True)
class EcgSubject:
    """One subject's heart and ECG, drawn from a :class:`HeartRecipe`."""

    rest_bpm: float  # heart rate in stable N2 at the middle of the night
    reactivity: float  # factor on the recipe's stage offsets
    stage_offset_bpm: tuple  # this subject's offsets per state (bpm above N2)
    lag_s: float
    decline_bpm_per_h: float
    drift_bpm: float
    arousals_per_h: float
    apnea: bool
    apnea_burden: float
    apnea_cycle_s: float
    apnea_bpm: float
    ectopic_per_h: float
    noisy_per_h: float
    lost_per_h: float
    rsa: float  # factor on the respiratory sinus arrhythmia
    lf: float  # factor on the low-frequency variability
    amplitude_mv: float  # R-wave amplitude on lead II
    qrs_width: float  # factor on the QRS width
    noise_mv: float

    @classmethod
    def draw(cls, rng: np.random.Generator, recipe: HeartRecipe = DEFAULT_RECIPE) -> "EcgSubject":
        u = lambda lo_hi: float(rng.uniform(*lo_hi))  # noqa: E731
        reactivity = u(recipe.reactivity_range)
        own = rng.normal(0.0, recipe.stage_offset_spread_bpm, 5)
        offsets = reactivity * np.asarray(recipe.stage_offset_bpm) + own
        offsets = tuple(round(float(v), 4) for v in offsets - offsets[2])  # N2 is the reference
        return cls(rest_bpm=float(np.clip(rng.normal(62.0, 7.0), 46.0, 84.0)), reactivity=reactivity,
                   stage_offset_bpm=offsets, lag_s=u(recipe.lag_s_range),
                   decline_bpm_per_h=float(rng.normal(*recipe.decline_bpm_per_h)),
                   drift_bpm=u(recipe.drift_bpm_range), arousals_per_h=u(recipe.arousals_per_h_range),
                   apnea=bool(rng.random() < recipe.apnea_share), apnea_burden=u(recipe.apnea_burden_range),
                   apnea_cycle_s=u(recipe.apnea_cycle_s_range), apnea_bpm=u(recipe.apnea_bpm_range),
                   ectopic_per_h=float(recipe.ectopic_per_h_median * np.exp(rng.normal(0.0, recipe.ectopic_per_h_sigma))),
                   noisy_per_h=u(recipe.noisy_per_h_range), lost_per_h=u(recipe.lost_per_h_range),
                   rsa=u((0.4, 1.5)), lf=u((0.6, 1.4)), amplitude_mv=u((0.8, 1.8)),
                   qrs_width=u((0.85, 1.2)), noise_mv=u((0.01, 0.035)))


def grid(timeline: Timeline) -> np.ndarray:
    """Times (s) of the 4 Hz grid covering the recording plus 5 s."""
    return np.arange(0.0, timeline.n_samples / timeline.sfreq + 5.0, 1.0 / GRID_HZ)


def _on_grid(timeline: Timeline, per_cell: np.ndarray, t: np.ndarray) -> np.ndarray:
    centres = timeline.t0 + (np.arange(len(per_cell)) + 0.5) * CELL_S
    return np.interp(t, centres, per_cell)


def _lagged(values: np.ndarray, tau_s: float) -> np.ndarray:
    """First-order lag of a per-cell series (the heart catches up with the state)."""
    a = np.exp(-CELL_S / tau_s)
    y, _ = signal.lfilter([1.0 - a], [1.0, -a], values, zi=[a * values[0]])
    return y


def _surges(times: np.ndarray, heights: np.ndarray, t: np.ndarray, *, peak_s: float) -> np.ndarray:
    """Sum of surges ``h * (x e^(1-x))^2`` with ``x = (t - onset) / peak_s`` (peak at ``peak_s``)."""
    kernel_t = np.arange(0.0, 8.0 * peak_s, 1.0 / GRID_HZ)
    x = kernel_t / peak_s
    kernel = (x * np.exp(1.0 - x)) ** 2
    impulses = np.zeros(len(t))
    np.add.at(impulses, np.clip(np.round(times * GRID_HZ).astype(int), 0, len(t) - 1), heights)
    return signal.oaconvolve(impulses, kernel)[: len(t)]


def _events(rng: np.random.Generator, timeline: Timeline, per_cell_rate: np.ndarray) -> np.ndarray:
    """Sorted times (s) of a Poisson process with ``per_cell_rate`` events per cell."""
    cells = np.repeat(np.arange(len(per_cell_rate)), rng.poisson(per_cell_rate))
    t = timeline.t0 + (cells + rng.uniform(0.0, 1.0, len(cells))) * CELL_S
    return np.sort(t[(t >= 0.0) & (t < timeline.n_samples / timeline.sfreq)])


def apnea_cycles(rng: np.random.Generator, timeline: Timeline, subject: EcgSubject,
                 recipe: HeartRecipe = DEFAULT_RECIPE) -> np.ndarray:
    """Times (s) of the post-apnea surges: runs of 3-20 min of cycles every ``apnea_cycle_s``."""
    weight = np.asarray(recipe.apnea_state_factor)[timeline.state]
    if not subject.apnea or weight.sum() == 0:  # no apnea, or no sleep (a short recording)
        return np.zeros(0)
    asleep_s = float(np.sum(timeline.state != W)) * CELL_S
    run_s = rng.uniform(180.0, 1200.0, size=max(1, int(subject.apnea_burden * asleep_s / 690.0)))
    starts = rng.choice(len(weight), size=len(run_s), p=weight / weight.sum())
    times = []
    for start, length in zip(starts, run_s):
        t = timeline.t0 + start * CELL_S
        for _ in range(int(length / subject.apnea_cycle_s)):
            t += subject.apnea_cycle_s * rng.uniform(0.85, 1.15)
            times.append(t)
    times = np.asarray(times)
    return np.sort(times[(times >= 0.0) & (times < timeline.n_samples / timeline.sfreq)])


def rate_components(rng: np.random.Generator, timeline: Timeline, subject: EcgSubject,
                    recipe: HeartRecipe = DEFAULT_RECIPE) -> dict[str, np.ndarray]:
    """Heart rate by component, bpm on the 4 Hz grid (:func:`grid`); their sum plus
    ``subject.rest_bpm`` is the mean rate."""
    t = grid(timeline)
    state = timeline.state
    stage = _on_grid(timeline, _lagged(np.asarray(subject.stage_offset_bpm)[state], subject.lag_s), t)
    hours = (t - t[-1] / 2.0) / 3600.0
    ou = np.exp(-1.0 / (GRID_HZ * recipe.drift_timescale_s))
    walk = signal.lfilter([np.sqrt(1.0 - ou ** 2)], [1.0, -ou], rng.standard_normal(len(t)))
    rate = subject.arousals_per_h / 360.0 * np.asarray(recipe.arousal_state_factor)[state]
    arousals = _events(rng, timeline, rate)
    phasic = _events(rng, timeline, (state == 4) * recipe.phasic_rem_per_min / 6.0)
    apneas = apnea_cycles(rng, timeline, subject, recipe)
    return {
        "stage": stage,
        "decline": subject.decline_bpm_per_h * hours,
        "drift": subject.drift_bpm * walk,
        "arousal": _surges(arousals, rng.uniform(*recipe.arousal_bpm_range, len(arousals)), t, peak_s=5.0),
        "apnea": _surges(apneas, subject.apnea_bpm * rng.uniform(0.6, 1.4, len(apneas)), t, peak_s=6.0),
        "phasic": _surges(phasic, rng.uniform(3.0, 8.0, len(phasic)), t, peak_s=3.0),
    }


def heart_rate(rng: np.random.Generator, timeline: Timeline, subject: EcgSubject,
               recipe: HeartRecipe = DEFAULT_RECIPE) -> tuple[np.ndarray, np.ndarray]:
    """Instantaneous beat frequency (Hz) and breathing phase (cycles) on the 4 Hz grid."""
    t = grid(timeline)
    n, state = len(t), timeline.state
    bpm = subject.rest_bpm + sum(rate_components(rng, timeline, subject, recipe).values())
    bpm = np.clip(bpm, 35.0, 150.0)
    breath_hz = _on_grid(timeline, np.asarray(BREATH_HZ)[state], t)
    wobble = _on_grid(timeline, np.asarray(BREATH_IRREGULARITY)[state], t)
    breath_hz *= 1.0 + wobble * shaped_noise(rng, n, GRID_HZ, band(0.01, 0.1, edge=0.02))
    breath_phase = np.cumsum(np.clip(breath_hz, 0.08, 0.6)) / GRID_HZ
    lf = subject.lf * _on_grid(timeline, np.asarray(LF_VARIABILITY)[state], t)
    lf = lf * shaped_noise(rng, n, GRID_HZ, band(0.02, 0.15, edge=0.02))
    rsa = subject.rsa * _on_grid(timeline, np.asarray(RSA_DEPTH)[state], t)
    return bpm / 60.0 * (1.0 + lf + rsa * np.sin(2 * np.pi * breath_phase)), breath_phase

