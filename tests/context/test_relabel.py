"""sleep-kd study relabel_cohort: scored stages at a chosen agreement with the true ones (label-noise ablation)."""

import numpy as np
import pytest

from sleep_kd.studies.relabel_cohort import relabel


@pytest.mark.parametrize("agreement", [0.7, 0.8, 0.9, 1.0])
def test_relabel_reaches_the_agreement_and_keeps_unscored(agreement):
    rng = np.random.default_rng(0)
    true = rng.integers(0, 6, size=2000)
    scored = np.where(rng.random(2000) < 0.8, true, rng.integers(0, 6, size=2000))
    scored[:50] = -2  # unscored stays unscored
    new = relabel(scored, true, agreement=agreement, rng=np.random.default_rng(1))
    both = new >= 0
    assert (new[:50] == -2).all()
    assert np.mean(new[both] == true[both]) == pytest.approx(agreement, abs=1e-3)


def test_lowering_agreement_uses_neighbouring_stages():
    true = np.full(100, 3)  # all N3
    new = relabel(true.copy(), true, agreement=0.5, rng=np.random.default_rng(0))
    assert set(np.unique(new)) == {2, 3}  # N3 is confused with N2 only
