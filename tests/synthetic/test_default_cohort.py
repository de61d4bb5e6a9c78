"""The default cohort's cache name carries the recipe, so a re-tuned generator is not served
from an old cache."""

from __future__ import annotations

from dataclasses import replace

from sleep_kd.data import default_cohort
from sleep_kd.data.synthetic import heart


def test_cache_name_carries_version_digest_and_size(monkeypatch, tmp_path):
    monkeypatch.setenv("SLEEP_KD_CACHE", str(tmp_path))
    path = default_cohort.default_cohort_path()
    digest = default_cohort.generator_digest()
    assert path == tmp_path / f"synthetic-v2-{digest}-n24-h8-s2026-100hz" / "cohort.h5"
    assert len(digest) == 8 and "synthetic-v1" not in str(path)


def test_a_retuned_heart_changes_the_cache_name(monkeypatch):
    before = default_cohort.default_cohort_path()
    monkeypatch.setattr(heart, "DEFAULT_RECIPE", replace(heart.DEFAULT_RECIPE, apnea_share=0.5))
    assert default_cohort.default_cohort_path() != before


def test_recipe_is_full_nights_of_a_modest_cohort():
    r = default_cohort.RECIPE
    assert 7.0 <= r["hours"] <= 9.0 and 20 <= r["subjects"] <= 30
