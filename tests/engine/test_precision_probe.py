"""bench/precision.py: a bf16 and an fp32 step against float64 on cohort windows (figures, not timings)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_probe_prints_gradient_cosines_and_writes_them(tiny_cohort, tmp_path):
    out = tmp_path / "precision.json"
    run = subprocess.run([sys.executable, "-m", "bench.precision", "--data", str(tiny_cohort),
                          "--batch", "8", "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.splitlines()[0])["cpu"]  # the machine comes first
    assert "ECG windows, batch 8: cosine of the step's gradient with float64's" in run.stdout
    figures = json.loads(out.read_text())["figures"]
    for modality in ("ecg", "eeg"):
        assert figures[modality]["fp32"]["gradient_cosine"]["all"] > 0.9999
        assert set(figures[modality]["bf16"]["gradient_cosine"]) >= {"encoder.0", "decoder.3", "classify", "all"}
        assert len(figures[modality]["bf16"]["convs"]) == 24  # utime_small's convolutions, head included
