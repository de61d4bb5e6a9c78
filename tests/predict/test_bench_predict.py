"""bench/predict.py runs at its smoke size and prints the three parts and the CPU flags (no timing asserted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_predict_prints_read_prepare_and_model_seconds(tmp_path):
    results = tmp_path / "results.jsonl"
    env = {**os.environ, "SLEEP_KD_BENCH_RESULTS": str(results), "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "bench.predict", "--quick"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    assert lines[-2].startswith("CPU: ") and "flags: " in lines[-2]
    line = json.loads(lines[-1])
    assert line == json.loads(results.read_text().strip().splitlines()[-1])
    assert {"read_s_per_8h", "prepare_s_per_8h", "model_s_per_8h", "cpu_flags"} <= set(line)
    assert line["n_epochs"] >= 120 and abs(line["read_share"] + line["prepare_share"] + line["model_share"] - 1) < 1e-9
