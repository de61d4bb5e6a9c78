"""The sleep-cycle model and the simulated scorer, on hypnograms alone (no signals)."""

from __future__ import annotations

import numpy as np
import pytest

from sleep_kd.data.synthetic.hypnogram import simulate_hypnogram
from sleep_kd.data.synthetic.scorer import agreement, score_night, unscored_runs
from sleep_kd.data.synthetic.stages import (LABEL_UNSCORED, LABELS, N3, REM, epoch_states,
                                            true_labels)

N_NIGHTS = 50


@pytest.fixture(scope="module")
def hypnograms():
    return [simulate_hypnogram(np.random.default_rng(i), hours=8.0) for i in range(N_NIGHTS)]


def _scored(hypnograms, standard):
    cells = 3 if standard == "AASM" else 2
    out = []
    for i, h in enumerate(hypnograms):
        rng = np.random.default_rng(1000 + i)
        state, slow = epoch_states(h.state, h.slow_wave, cells_per_epoch=cells)
        truth = true_labels(state, slow, standard=standard)
        runs = unscored_runs(rng, len(truth), hours=8.0)
        out.append((truth, score_night(rng, truth, slow_wave=slow, unscored=runs, standard=standard)))
    return out


def test_night_has_the_requested_length(hypnograms):
    assert all(len(h.state) == 8 * 360 for h in hypnograms)


def test_stage_proportions_are_realistic(hypnograms):
    share = np.mean([np.bincount(h.state, minlength=5) / len(h.state) for h in hypnograms], axis=0)
    low = np.array([0.08, 0.04, 0.42, 0.13, 0.17])
    high = np.array([0.16, 0.11, 0.56, 0.21, 0.26])
    assert np.all((low <= share) & (share <= high)), share.round(3)


def test_deep_sleep_early_and_rem_late(hypnograms):
    thirds = np.array([[[np.mean(t == s) for t in np.array_split(h.state, 3)] for s in (N3, REM)]
                       for h in hypnograms]).mean(axis=0)
    n3, rem = thirds
    assert n3[0] > 3 * n3[2] and n3[0] > 0.5 * n3.sum()
    assert rem[2] > 1.5 * rem[0]


def test_night_starts_and_ends_awake_with_brief_awakenings(hypnograms):
    for h in hypnograms[:10]:
        assert h.state[0] == 0 and h.state[-1] == 0
        wake_bouts = np.flatnonzero(np.diff((h.state == 0).astype(int)) == 1)
        assert len(wake_bouts) >= 5  # awakenings during the night


def test_rk_nights_split_deep_sleep_into_3_and_4(hypnograms):
    truth = np.concatenate([t for t, _ in _scored(hypnograms[:10], "R&K")])
    share3, share4 = np.mean(truth == 3), np.mean(truth == 4)
    assert share3 > 0.01 and share4 > 0.03


@pytest.mark.parametrize("standard", ["AASM", "R&K"])
def test_scorer_agrees_with_truth_about_80_percent(hypnograms, standard):
    values = [agreement(t, s) for t, s in _scored(hypnograms, standard)]
    assert 0.72 < np.mean(values) < 0.88
    assert min(values) > 0.65 and max(values) < 0.95


def test_scorer_errors_are_between_neighbouring_stages_and_at_transitions(hypnograms):
    pairs = _scored(hypnograms, "AASM")
    neighbours = {frozenset(p) for p in [("W", "1"), ("1", "2"), ("2", "3"), ("1", "R"), ("3", "4")]}
    n_err = n_neighbour = near_err = near = 0
    for truth, scored in pairs:
        kept = scored != LABEL_UNSCORED
        wrong = kept & (truth != scored)
        n_err += wrong.sum()
        n_neighbour += sum(frozenset((LABELS[a], LABELS[b])) in neighbours
                           for a, b in zip(truth[wrong], scored[wrong]))
        change = np.flatnonzero(np.diff(truth)) + 1
        at = np.zeros(len(truth), bool)
        at[change] = at[change - 1] = True
        near_err += (wrong & at).sum()
        near += (kept & at).sum()
    assert n_neighbour / n_err > 0.85
    # Epochs beside a transition are mislabelled far more often than the rest.
    rest_rate = (n_err - near_err) / (sum(len(t) for t, _ in pairs) - near)
    assert near_err / near > 2.0 * rest_rate


def test_unscored_epochs_are_a_few_percent_in_runs(hypnograms):
    pairs = _scored(hypnograms[:20], "AASM")
    scored = np.concatenate([s for _, s in pairs])
    assert 0.01 < np.mean(scored == LABEL_UNSCORED) < 0.06
    assert all(s[0] == LABEL_UNSCORED for _, s in pairs)  # lights-off is never scored


def test_same_stream_gives_same_night():
    a = simulate_hypnogram(np.random.default_rng(7), hours=2.0)
    b = simulate_hypnogram(np.random.default_rng(7), hours=2.0)
    c = simulate_hypnogram(np.random.default_rng(8), hours=2.0)
    assert np.array_equal(a.state, b.state) and np.array_equal(a.slow_wave, b.slow_wave)
    assert not np.array_equal(a.state, c.state)


def test_full_nights_have_the_four_class_shares_of_healthy_sleepers(hypnograms):
    # Issue 13: roughly W 10-20 %, light 50-60 %, deep 10-20 %, REM 18-25 % of an 8-h night.
    state = np.concatenate([h.state for h in hypnograms])
    shares = [np.mean(state == 0), np.mean((state == 1) | (state == 2)), np.mean(state == N3),
              np.mean(state == REM)]
    low, high = np.array([0.09, 0.48, 0.10, 0.18]), np.array([0.20, 0.60, 0.20, 0.25])
    assert np.all((low <= shares) & (shares <= high)), np.round(shares, 3)


def test_first_rem_comes_60_to_100_minutes_after_lights_off(hypnograms):
    # The night starts at lights-off; REM latency of healthy adults is 60-100 min.
    latency_min = np.array([np.flatnonzero(h.state == REM)[0] * 10 / 60 for h in hypnograms])
    assert np.mean((latency_min >= 60) & (latency_min <= 100)) >= 0.9, np.sort(latency_min)
    assert 65 < np.median(latency_min) < 95
