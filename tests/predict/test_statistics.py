"""Sleep statistics against hypnograms whose figures were worked out by hand."""

import numpy as np
import pytest

from sleep_kd.predict.statistics import sleep_statistics

FOUR = ("W", "Light", "Deep", "REM")
W, L, D, R = range(4)


def test_statistics_of_a_hand_scored_night():
    # 30-s epochs: 4 W (SOL 2 min), 10 sleep, 2 W, 6 sleep incl. REM at epoch 18, 2 W at the end.
    stages = np.array([W] * 4 + [L] * 6 + [D] * 4 + [W] * 2 + [L] * 2 + [R] * 3 + [L] + [W] * 2)
    s = sleep_statistics(stages, FOUR, epoch_s=30.0)
    assert s["TIB_min"] == 12.0  # 24 epochs
    assert s["TST_min"] == 8.0  # 16 sleep epochs
    assert s["SE_pct"] == pytest.approx(100 * 8 / 12)
    assert s["SOL_min"] == 2.0
    assert s["WASO_min"] == 2.0  # epochs 14-15 and 22-23
    assert s["REM_latency_min"] == 7.0  # first REM at epoch 18, onset at epoch 4: 14 epochs
    assert s["n_awakenings"] == 2
    assert s["n_transitions"] == 7  # W>L, L>D, D>W, W>L, L>R, R>L, L>W
    assert (s["W_min"], s["Light_min"], s["Deep_min"], s["REM_min"]) == (4.0, 4.5, 2.0, 1.5)
    assert s["REM_pct_tst"] == pytest.approx(100 * 1.5 / 8)
    assert s["W_pct_tib"] == pytest.approx(100 * 4 / 12)
    assert s["Light_pct_tst"] + s["Deep_pct_tst"] + s["REM_pct_tst"] == pytest.approx(100)


def test_three_classes_report_only_their_own_stages():
    s = sleep_statistics(np.array([0, 1, 1, 2, 1, 0]), ("W", "NREM", "REM"), epoch_s=60.0)
    assert "NREM_pct_tst" in s and "Light_min" not in s and "Deep_min" not in s
    assert (s["TST_min"], s["SOL_min"], s["WASO_min"], s["REM_latency_min"]) == (4.0, 1.0, 1.0, 2.0)


def test_a_night_without_sleep_or_rem_has_no_latencies():
    awake = sleep_statistics(np.zeros(10, dtype=int), FOUR)
    assert awake["TST_min"] == 0 and awake["SOL_min"] is None and awake["WASO_min"] is None
    assert awake["REM_latency_min"] is None and awake["SE_pct"] == 0 and awake["n_awakenings"] == 0
    no_rem = sleep_statistics(np.array([W, L, L, D]), FOUR)
    assert no_rem["REM_latency_min"] is None and no_rem["SOL_min"] == 0.5


def test_classes_without_a_wake_class_are_refused():
    with pytest.raises(ValueError, match="no wake class"):
        sleep_statistics(np.zeros(3, dtype=int), ("A", "B"))
