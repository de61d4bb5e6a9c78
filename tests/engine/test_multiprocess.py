"""Two CPU processes (gloo) through torchrun: train, resume, evaluate, and fail fast on a crash."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sleep_kd.evaluation.scoring import evaluate_checkpoint


ROOT = Path(__file__).resolve().parents[2]


def torchrun(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--master_addr", "127.0.0.1", "--master_port", str(port), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def ddp_run(tiny_cohort, tmp_path_factory, train_args):
    runs = tmp_path_factory.mktemp("ddp")
    out = runs / "ecg"
    first = torchrun("train_loop.py", "--strategy", "ecg_base",
                     *train_args(tiny_cohort, runs, "--out", str(out), "--epochs", "2", "--max-steps", "3"))
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = torchrun("train_loop.py", "--strategy", "ecg_base", "--resume", str(out), "--max-steps", "6")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    return out, first.stdout + resumed.stdout


def test_two_processes_train_and_resume(ddp_run):
    out, stdout = ddp_run
    progress = json.loads((out / "state" / "progress.json").read_text())
    assert progress["global_step"] == 6
    assert "2 process(es)" in stdout and "resuming ecg_base" in stdout
    assert stdout.count("[sleep_kd] training ecg_base") == 2  # printed by the main process only
    assert len(list((out / "tensorboard").glob("events.out.tfevents.*"))) == 2  # one per run, main only


def test_gathered_validation_equals_one_process_evaluation(ddp_run):
    out, _ = ddp_run
    logged = json.loads((out / "last" / "metrics.json").read_text())
    alone = evaluate_checkpoint(out / "last", split="val", cpu=True)
    assert alone["n_epochs"] > 0
    for key in ("accuracy", "kappa", "macro_f1", "weighted_f1"):
        assert logged[key] == pytest.approx(alone[key], abs=1e-12), key


def test_two_process_evaluate_matches_one_process(ddp_run, tmp_path):
    out, _ = ddp_run
    two = torchrun("evaluate.py", str(out / "last"), "--cpu", "--json", str(tmp_path / "two.json"))
    assert two.returncode == 0, two.stderr[-3000:]
    one = subprocess.run([sys.executable, "evaluate.py", str(out / "last"), "--cpu", "--json",
                          str(tmp_path / "one.json")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-3000:]
    assert json.loads((tmp_path / "two.json").read_text()) == json.loads((tmp_path / "one.json").read_text())


def test_a_crashed_process_ends_the_run_instead_of_hanging(tiny_cohort, tmp_path, train_args):
    start = time.monotonic()
    result = torchrun("tests/engine/crash_rank1.py", "--strategy", "ecg_base",
                      *train_args(tiny_cohort, tmp_path, "--out", str(tmp_path / "crash"),
                                  "--set", "train.collective_timeout_s=60"), timeout=300)
    assert result.returncode != 0
    assert "rank 1 crashed on purpose" in result.stderr
    assert time.monotonic() - start < 240
