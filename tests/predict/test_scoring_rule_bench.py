"""bench/scoring_rule.py measures both context rules on a checkpoint's own test split and prints one JSON line."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_rule_benchmark_prints_and_appends_both_rules_figures(context_checkpoint, tmp_path):
    results = tmp_path / "results.jsonl"
    run = subprocess.run([sys.executable, "-m", "bench.scoring_rule", str(context_checkpoint), "--quick"], cwd=ROOT,
                         env={**os.environ, "SLEEP_KD_BENCH_RESULTS": str(results)}, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("CPU: ")  # the machine beside the figures
    line = json.loads(run.stdout.strip().splitlines()[-1])
    assert json.loads(results.read_text()) == line
    assert line["bench"] == "scoring_rule" and line["quick"] is True and line["nights"] == 1
    assert line["split"] == "test" and line["context_epochs"] == 8 and line["epochs"] > 40
    for key in ("kappa_scored_tile", "kappa_scored_overlap", "same_stage_share", "overlap_over_tile_flops"):
        assert isinstance(line[key], float), key
    assert 0.0 <= line["same_stage_share"] <= 1.0 and 0.99 < line["overlap_over_tile_flops"] < 1.5
    assert "kappa_true_tile" not in line  # an ingested cohort has no truth/ beside it


def test_a_one_window_checkpoint_is_refused(ecg_checkpoint, tmp_path):
    run = subprocess.run([sys.executable, "-m", "bench.scoring_rule", str(ecg_checkpoint), "--quick"], cwd=ROOT,
                         env={**os.environ, "SLEEP_KD_BENCH_RESULTS": str(tmp_path / "results.jsonl")},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last == f"{ecg_checkpoint}: not a bidirectional context model (nothing to choose)"
