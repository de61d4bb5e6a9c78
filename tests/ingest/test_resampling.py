"""The matrix-product resampler gives scipy's resample_poly to float32 rounding."""

import numpy as np
import pytest
from scipy.signal import resample_poly

from sleep_kd.data.resampling import PolyphaseResampler, rate_ratio, resample


@pytest.mark.parametrize("sfreq_in, sfreq_out, n", [
    (256, 100, 30_721), (256, 200, 30_720), (200, 100, 10_001), (128, 100, 5_003),
    (100, 200, 777), (250, 100, 12_345), (512, 100, 9), (256, 128, 1),
])
def test_matches_resample_poly(sfreq_in, sfreq_out, n):
    x = np.random.default_rng(n).standard_normal(n) * 50.0  # microvolt-like scale
    up, down = rate_ratio(sfreq_in, sfreq_out)
    expected = resample_poly(x, up, down)
    got = resample(x, sfreq_in=sfreq_in, sfreq_out=sfreq_out)
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1e-5 * np.abs(x).max()


def test_rate_ratio_in_lowest_terms():
    assert rate_ratio(256.0, 100.0) == (25, 64)
    assert rate_ratio(256.0, 200.0) == (25, 32)
    assert rate_ratio(200.0, 200.0) == (1, 1)


def test_same_rate_is_a_float32_copy_of_the_input():
    x = np.arange(5.0)
    assert resample(x, sfreq_in=100.0, sfreq_out=100.0).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_long_signals_are_processed_in_blocks(monkeypatch):
    from sleep_kd.data import resampling

    x = np.random.default_rng(0).standard_normal(20_000)
    whole = PolyphaseResampler(25, 64)(x)
    monkeypatch.setattr(resampling, "BLOCK_ROWS", 7)
    np.testing.assert_allclose(PolyphaseResampler(25, 64)(x), whole, rtol=1e-5, atol=1e-6)


def test_a_sine_in_the_passband_keeps_its_amplitude_and_one_above_is_removed():
    t = np.arange(256 * 60) / 256.0
    kept = resample(np.sin(2 * np.pi * 10.0 * t), sfreq_in=256, sfreq_out=100)[500:-500]
    gone = resample(np.sin(2 * np.pi * 80.0 * t), sfreq_in=256, sfreq_out=100)[500:-500]
    rms = lambda y: float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))  # noqa: E731
    assert abs(rms(kept) - np.sqrt(0.5)) < 0.005 and rms(gone) < 0.005
