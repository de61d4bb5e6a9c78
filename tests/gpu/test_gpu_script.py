"""The GPU check (python -m bench.gpu) on a machine without CUDA, its speed section at tiny sizes on the CPU, and its parts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from bench import gpu as gpu_check
from bench.gpu_cohort import write_cohort
from bench.gpu_figures import speed_figures, workers_needed
from bench.gpu_report import format_table
from bench.gpu_speed import Deadline, SpeedPlan, guarded

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU the script runs the whole check: run it directly")
def test_the_check_without_cuda_says_so_shows_the_cuda_tests_skip_and_writes_its_report(tmp_path):
    run = subprocess.run([sys.executable, "-m", "bench.gpu", "--out", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "no CUDA device on this machine" in run.stdout
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["cuda"] is False and report["machine"]["cores"] >= 1
    assert report["machine"]["torch"] == torch.__version__ and "cpu" in report["machine"]
    tests = report["cuda_tests"]
    assert tests["status"] == "exit 0" and tests["passed"] == tests["failed"] == tests["error"] == 0
    assert tests["skipped"] == len(tests["tests"]) >= 15  # every cuda test collected, every one skipped
    assert tests["skip_reasons"] == ["needs a CUDA GPU (run python -m bench.gpu --out DIR on one)"]
    assert report["speed"] == {"skipped": "no CUDA device"}
    table = (tmp_path / "gpu_check.txt").read_text()
    assert "GPU figures not measured" in table and table in run.stdout
    assert "PASSED" not in (tmp_path / "cuda_tests.txt").read_text()


TINY_PLAN = SpeedPlan(models=("utime_small",), precisions=("fp32",), batch=2, rounds=1, step_seconds=0.05,
                      matmul_n=128, loader_model="utime_small", loader_sfreq=100.0, loader_workers=(0,),
                      loader_seconds=0.2, scoring_batches=(16,), night_epochs=16, largest_batch_s=1.0, device="cpu")


def test_the_speed_section_runs_end_to_end_at_tiny_sizes_on_the_cpu(tmp_path):
    cohort = write_cohort(tmp_path / "c.h5", n_subjects=2, hours=0.25, sfreq=100.0)
    sections = []
    figures = speed_figures(cohort, Deadline(300), TINY_PLAN, on_section=lambda done: sections.append(list(done)))
    assert sections[0] == ["plan", "matmul_tflops"] and len(sections) == 5  # saved after each section
    assert sections[-1] == list(figures) == ["plan", "matmul_tflops", "training", "scoring_night", "loader",
                                             "largest_batch"]
    step = figures["training"]["utime_small"]["fp32"]
    assert step["batch_windows"] == 2 and step["windows_per_s"] > 0 and 0 < step["fraction_of_matmul"]
    assert step["peak_memory_gib"] is None  # measured on CUDA only
    assert figures["training"]["utime_small"]["gflop_per_window_step"] == pytest.approx(0.129, rel=0.05)
    assert figures["scoring_night"]["utime_small"]["fp32/b16"]["nights_per_s"] > 0
    loader = figures["loader"]
    assert loader["training_windows_per_s"] == {"fp32": step["windows_per_s"]}
    assert loader["ecg"]["windows_per_s_by_workers"][0] > 0  # the loader's rate ...
    assert loader["ecg"]["loader_over_training_fp32"][0] == pytest.approx(  # ... over the step's, both measured here
        loader["ecg"]["windows_per_s_by_workers"][0] / step["windows_per_s"], rel=0.01)
    assert figures["largest_batch"]["utime_small"]["fp32"]["stopped_by"] in ("time", "cap", "out of memory")
    table = format_table({"machine": {}, "speed": figures})
    assert "utime_small fp32" in table and "loader ecg" in table and "night of 16 epochs" in table


def test_a_section_out_of_time_is_marked_skipped_not_measured(tmp_path):
    cohort = write_cohort(tmp_path / "c.h5", n_subjects=2, hours=0.25, sfreq=100.0)
    figures = speed_figures(cohort, Deadline(0), TINY_PLAN)
    assert figures["training"]["utime_small"] == {"fp32": {"skipped": "out of time"}}
    assert figures["scoring_night"]["utime_small"]["fp32/b16"] == {"skipped": "out of time"}
    assert figures["largest_batch"]["utime_small"]["fp32"] == {"skipped": "out of time"}
    assert "skipped" in format_table({"machine": {}, "speed": figures})


def test_workers_needed_is_the_fewest_that_keep_up_errors_left_out():
    rates = {0: 900.0, 2: {"error": "x"}, 4: 2100.0, 8: 4000.0}
    assert workers_needed(rates, 2000.0) == 4
    assert workers_needed(rates, 500.0) == 0
    assert workers_needed(rates, 5000.0) is None


def test_a_failed_measurement_becomes_an_error_figure():
    def broken():
        raise RuntimeError("CUDA error: an illegal memory access\nmore")
    assert guarded(broken) == {"error": "RuntimeError: CUDA error: an illegal memory access"}
    assert guarded(lambda: 3.5) == 3.5


def test_pytest_outcomes_and_failure_reasons_are_read_from_its_output():
    text = "\n".join([
        "tests/gpu/test_a.py::test_one[no] PASSED                                  [ 33%]",
        "tests/gpu/test_a.py::test_two FAILED                                      [ 66%]",
        "tests/gpu/test_b.py::test_three SKIPPED (needs a CUDA GPU)                [100%]",
        "=========================== short test summary info ============================",
        "SKIPPED [1] tests/gpu/conftest.py:33: needs a CUDA GPU",
        "SKIPPED [1] tests/gpu/test_b.py: needs a CUDA GPU",
        "FAILED tests/gpu/test_a.py::test_two - AssertionError: 3 syncs per step",
    ])
    outcomes = gpu_check.pytest_outcomes(text)
    assert (outcomes["passed"], outcomes["failed"], outcomes["skipped"], outcomes["error"]) == (1, 1, 1, 0)
    assert outcomes["skip_reasons"] == ["needs a CUDA GPU"]
    assert outcomes["tests"][1] == {"test": "tests/gpu/test_a.py::test_two", "outcome": "failed",
                                    "reason": "AssertionError: 3 syncs per step"}


def test_the_direct_cohort_holds_what_ingest_makes_of_the_same_nights_edf_files(tmp_path):
    """Same epochs and stages; signals equal to EDF's 16-bit rounding (the only step the direct path leaves out)."""
    step_uv = {"eeg": 2 * 800.0 / 65535, "ecg": 2 * 6000.0 / 65535}  # one EDF step over the generator's ranges
    pytest.importorskip("mne")
    pytest.importorskip("edfio")
    import h5py

    from sleep_kd.data.ingest import ingest
    from sleep_kd.data.synthetic import generate_cohort

    direct = write_cohort(tmp_path / "direct.h5", n_subjects=4, hours=0.1, sfreq=100.0, seed=5)
    generate_cohort(tmp_path / "edf", n_subjects=4, hours=0.1, seed=5, sfreq=256.0)
    ingest("mass", tmp_path / "edf", tmp_path / "ingested.h5", sfreq=100.0, workers=1, progress=False)
    with h5py.File(direct) as a, h5py.File(tmp_path / "ingested.h5") as b:
        assert sorted(a["recordings"]) == sorted(b["recordings"]) and a.attrs["modalities"] == b.attrs["modalities"]
        for rid in a["recordings"]:
            ours, theirs = a["recordings"][rid], b["recordings"][rid]
            for name in ("onset", "duration", "stage"):
                np.testing.assert_array_equal(ours["epochs"][name][:], theirs["epochs"][name][:])
            for modality in ("eeg", "ecg"):
                x, y = ours[modality][:], theirs[modality][:]
                assert x.shape == y.shape
                assert np.abs(x - y).max() <= 2 * step_uv[modality], (rid, modality)  # a derivation: two roundings
            assert ours.attrs["eeg_derivation"] == theirs.attrs["eeg_derivation"]
            assert ours.attrs["ecg_derivation"] == theirs.attrs["ecg_derivation"]
