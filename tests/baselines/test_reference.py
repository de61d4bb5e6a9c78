"""The reference pipeline of issue 13: features on known inputs, and a run on a small cohort file."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sleep_kd.baselines import calibration_table, run_reference
from sleep_kd.baselines import features as F
from sleep_kd.data.ingest import ingest
from sleep_kd.data.synthetic import generate_cohort
from sleep_kd.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def _ecg(beats: np.ndarray, fs: float, seconds: float) -> np.ndarray:
    """Narrow Gaussian R waves (1 mV) at ``beats`` plus a little noise, inverted (as MASS stores)."""
    t = np.arange(int(seconds * fs)) / fs
    x = np.zeros_like(t)
    for b in beats:
        near = np.abs(t - b) < 0.1
        x[near] += np.exp(-0.5 * ((t[near] - b) / 0.012) ** 2)
    return -(x + 0.01 * np.random.default_rng(0).standard_normal(len(t)))


def test_r_peaks_find_the_beats_of_an_inverted_ecg_to_a_few_ms():
    beats = np.cumsum(np.random.default_rng(1).uniform(0.8, 1.1, 100)) + 1.0
    found = F.r_peaks(_ecg(beats, 100.0, beats[-1] + 2.0), 100.0)
    assert len(found) == len(beats)
    assert np.max(np.abs(found - beats)) < 0.006


def test_hr_features_of_a_steady_heart():
    peaks = np.arange(0.0, 120.0, 0.8)  # 75 bpm
    x = F.hr_features(peaks, np.array([30.0, 60.0]), np.array([30.0, 30.0]))
    assert x.shape == (2, len(F.HR_FEATURES))
    np.testing.assert_allclose(x, [[75.0, 0.0, 0.0, 800.0, 0.0]] * 2, atol=1e-9)


def test_hr_features_reject_implausible_intervals_and_mark_lost_epochs():
    peaks = np.concatenate([np.arange(0.0, 60.0, 1.0), [60.05], np.arange(61.0, 90.0, 1.0)])
    x = F.hr_features(peaks, np.array([45.0, 150.0]), np.array([30.0, 30.0]))
    assert x[0, 0] == pytest.approx(60.0, abs=0.1)  # the 50 ms interval is dropped, not averaged in
    assert np.all(np.isnan(x[1]))  # no beats after 89 s: lost signal


def test_robust_scaling_and_context():
    x = np.array([[1.0, 10.0], [2.0, np.nan], [3.0, 30.0], [4.0, 40.0], [5.0, 50.0]])
    z = F.robust_scale(x)
    assert z[2, 0] == 0.0 and z[1, 1] == 0.0 and z[4, 0] == pytest.approx(1.0)
    c = F.with_context(np.arange(5.0)[:, None], 2)
    assert c.shape == (5, 5)
    np.testing.assert_array_equal(c[0], [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(c[4], [2, 3, 4, 4, 4])


@pytest.fixture(scope="module")
def small_cohort(tmp_path_factory) -> Path:
    """Five half-hour synthetic nights, ingested at 100 Hz, truth/ beside the file."""
    root = tmp_path_factory.mktemp("ref")
    generate_cohort(root / "edf", n_subjects=5, hours=0.5, seed=4, sfreq=128.0)
    ingest("mass", root / "edf", root / "cohort.h5", sfreq=100.0, progress=False)
    shutil.move(str(root / "edf" / "truth"), root / "truth")
    return root / "cohort.h5"


def test_reference_on_a_cohort_file(small_cohort):
    result = run_reference(small_cohort)
    assert result["n_nights"] == 5
    keys = {f"{m}/{c}/{lab}" for m in ("ecg", "eeg") for c in ("epoch", "context") for lab in ("scored", "true")}
    assert set(result["kappa"]) == keys
    assert result["kappa"]["eeg/epoch/true"] > 0.5
    assert result["kappa"]["eeg/epoch/true"] > result["kappa"]["ecg/epoch/true"]
    assert sum(result["shares"]["scored"].values()) == pytest.approx(1.0)
    assert set(result["heart_rate"]["within_sd_bpm"]) == {"W", "Light", "Deep", "REM"}
    table = calibration_table(result)
    assert "| reference ECG pipeline, epoch alone |" in table and "stage shares" in table


def test_without_truth_only_scored_stages(small_cohort, tmp_path):
    result = run_reference(small_cohort, truth_dir=tmp_path)  # an empty folder
    assert set(result["shares"]) == {"scored"}
    assert all(k.endswith("/scored") for k in result["kappa"])


def test_truth_of_another_cohort_is_refused(small_cohort, tmp_path):
    shutil.copytree(small_cohort.parent / "truth", tmp_path / "truth")
    path = sorted((tmp_path / "truth").glob("*.csv"))[0]
    rows = list(csv.DictReader(path.open()))
    rows[5]["scored_stage"] = "R" if rows[5]["scored_stage"] != "R" else "W"
    with path.open("w", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
    with pytest.raises(InputError) as error:
        run_reference(small_cohort, truth_dir=tmp_path / "truth")
    assert str(error.value) == f"{path}: scored stages differ from the cohort file's (not this cohort's truth?)"


def test_bench_script_prints_the_table(small_cohort):
    run = subprocess.run([sys.executable, "-m", "bench.reference", str(small_cohort), "--no-record"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "reference ECG pipeline" in run.stdout and "machine:" in run.stdout


def test_bench_script_refuses_a_missing_file(tmp_path):
    run = subprocess.run([sys.executable, "-m", "bench.reference", str(tmp_path / "no.h5"),
                          "--no-record"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: {tmp_path / 'no.h5'}: cohort file not found"
