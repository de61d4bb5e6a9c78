"""Two CPU processes (gloo) through torchrun: train, resume, evaluate, and fail fast on a crash."""

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sleep_kd.evaluation.scoring import evaluate_checkpoint


ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torchrun(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    port = _free_port()
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


def _saved_step(progress_file: Path) -> int:
    try:
        return json.loads(progress_file.read_text())["global_step"]
    except (OSError, ValueError, KeyError):
        return -1


def _worker_of_rank(launcher_pid: int, rank: int, timeout_s: float = 120.0) -> int:
    """The pid of the torchrun worker whose environment says RANK=rank."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{launcher_pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                try:
                    environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
                except OSError:
                    continue
                if f"RANK={rank}".encode() in environ:
                    return int(child)
        time.sleep(0.1)
    pytest.fail(f"no worker of rank {rank}")


def test_sigterm_on_one_rank_stops_every_rank_at_the_same_step_with_a_resumable_state(tiny_cohort, tmp_path,
                                                                                    train_args):
    """Slurm signals every process, but one may see it first: the ranks agree on the step to stop at."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "ecg"
    launcher = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
         "--master_port", str(port), "train_loop.py", "--strategy", "ecg_base",
         *train_args(tiny_cohort, tmp_path, "--out", str(out), "--epochs", "2", "--set", "train.save_state_every=1")],
        cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)
    progress_file = out / "state" / "progress.json"
    deadline = time.monotonic() + 600
    while _saved_step(progress_file) < 2:
        assert launcher.poll() is None and time.monotonic() < deadline, "the run ended before the signal"
        time.sleep(0.05)
    os.kill(_worker_of_rank(launcher.pid, 1), 15)  # SIGTERM to rank 1 only
    _, err = launcher.communicate(timeout=600)
    # The main process prints the line; it learnt of the signal from rank 1.
    said = "state saved; resume with: "
    line = next(line for line in err.splitlines() if said in line)
    command = line.split(said, 1)[1]
    assert shlex.split(command)[1:] == ["-m", "torch.distributed.run", "--nproc_per_node", "2", "train_loop.py",
                                        "--strategy", "ecg_base", "--resume", str(out)]
    stopped = json.loads(progress_file.read_text())
    assert stopped["epoch"] == 0 and stopped["batches_done"] >= 2
    # The line as printed: two processes again (one machine: torchrun picks a free port itself).
    resumed = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=900,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads(progress_file.read_text())["epoch"] == 2
