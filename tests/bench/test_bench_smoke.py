"""Each benchmark runs at a tiny size and prints one JSON line of ratios (no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAST = ("compute", "score", "ingest")
SLOW = ("loop", "loader", "scaling")  # minutes each on 2 cores: only with SLEEP_KD_BENCH_SMOKE_ALL=1


def run_quick(name: str, tmp_path: Path) -> dict:
    results = tmp_path / "results.jsonl"
    env = {**os.environ, "SLEEP_KD_BENCH_RESULTS": str(results)}
    run = subprocess.run([sys.executable, "-m", f"bench.{name}", "--quick"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    printed = json.loads(run.stdout.strip().splitlines()[-1])
    assert json.loads(results.read_text().strip().splitlines()[-1]) == printed
    return printed


@pytest.mark.parametrize("name", FAST)
def test_benchmark_prints_and_appends_its_json_line(name, tmp_path):
    line = run_quick(name, tmp_path)
    assert line["bench"] == name and line["quick"] is True and line["cores"] >= 1


@pytest.mark.skipif(not os.environ.get("SLEEP_KD_BENCH_SMOKE_ALL"), reason="slow; set SLEEP_KD_BENCH_SMOKE_ALL=1")
@pytest.mark.parametrize("name", SLOW)
def test_slow_benchmark_prints_and_appends_its_json_line(name, tmp_path):
    assert run_quick(name, tmp_path)["bench"] == name


@pytest.mark.parametrize("name", FAST + SLOW)
def test_benchmark_has_help(name):
    run = subprocess.run([sys.executable, "-m", f"bench.{name}", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "--quick" in run.stdout
