"""A run killed hard (SIGKILL), or stopped by Ctrl-C / SIGTERM, mid-epoch and resumed ends bit-equal
to an uninterrupted run."""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import train_loop


ROOT = Path(__file__).resolve().parents[2]


def args_for(cohort, runs, out, train_args):
    return train_args(cohort, runs, "--out", str(out), "--epochs", "2", "--set", "train.save_state_every=1")


def kill_when(process, progress_file: Path, *, min_step: int, timeout_s: float = 300.0) -> int:
    """SIGKILL the process as soon as its saved state has reached ``min_step`` optimizer steps."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if progress_file.is_file():
            try:
                step = json.loads(progress_file.read_text())["global_step"]
            except (json.JSONDecodeError, KeyError):
                step = -1
            if step >= min_step:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return step
        if process.poll() is not None:
            pytest.fail("the run ended before it could be killed")
        time.sleep(0.05)
    process.kill()
    pytest.fail("the run never reached the step to kill at")


@pytest.fixture(scope="module")
def uninterrupted(tiny_cohort, tmp_path_factory, train_args):
    runs = tmp_path_factory.mktemp("runs")
    out = runs / "whole"
    assert train_loop.main(["--strategy", "ecg_base", *args_for(tiny_cohort, runs, out, train_args)]) == 0
    return out


def test_killed_mid_epoch_then_resumed_equals_uninterrupted(tiny_cohort, tmp_path, uninterrupted, train_args):
    out = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "train_loop.py", "--strategy", "ecg_base",
                                *args_for(tiny_cohort, tmp_path, out, train_args)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_at = kill_when(process, out / "state" / "progress.json", min_step=3)
    progress = json.loads((out / "state" / "progress.json").read_text())
    assert progress["epoch"] == 0 and progress["batches_done"] >= 3  # mid-way through the first epoch
    assert train_loop.main(["--strategy", "ecg_base", "--resume", str(out)]) == 0
    for name in ("last", "best"):
        assert (out / name / "model.safetensors").read_bytes() == \
            (uninterrupted / name / "model.safetensors").read_bytes(), (name, killed_at)
        assert json.loads((out / name / "metrics.json").read_text()) == \
            json.loads((uninterrupted / name / "metrics.json").read_text())


def signal_when(process, progress_file: Path, signal_number, *, min_step: int, timeout_s: float = 300.0) -> None:
    """Send ``signal_number`` once the run's saved state has reached ``min_step`` optimizer steps."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if json.loads(progress_file.read_text())["global_step"] >= min_step:
                os.kill(process.pid, signal_number)
                return
        except (OSError, json.JSONDecodeError, KeyError):
            pass
        if process.poll() is not None:
            pytest.fail("the run ended before the signal")
        time.sleep(0.05)
    process.kill()
    pytest.fail("the run never reached the step to signal at")


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_saves_state_exits_130_and_resumes_equal_to_uninterrupted(
        tiny_cohort, tmp_path, uninterrupted, train_args, signal_number):
    out = tmp_path / "stopped run"  # a space in the path: the printed command must quote it
    process = subprocess.Popen([sys.executable, "train_loop.py", "--strategy", "ecg_base",
                                *args_for(tiny_cohort, tmp_path, out, train_args)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    signal_when(process, out / "state" / "progress.json", signal_number, min_step=2)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 130
    assert "Traceback" not in err
    said = f"interrupted ({signal.Signals(signal_number).name}): state saved; resume with: "
    last = err.strip().splitlines()[-1]
    assert last.startswith(said)
    command = last.removeprefix(said)
    assert shlex.split(command)[1:] == ["train_loop.py", "--strategy", "ecg_base", "--resume", str(out)]
    progress = json.loads((out / "state" / "progress.json").read_text())
    assert progress["epoch"] == 0 and progress["batches_done"] >= 2  # stopped inside the first epoch
    resumed = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr  # the line as printed, through the shell
    for name in ("last", "best"):
        assert (out / name / "model.safetensors").read_bytes() == \
            (uninterrupted / name / "model.safetensors").read_bytes(), name
        assert json.loads((out / name / "metrics.json").read_text()) == \
            json.loads((uninterrupted / name / "metrics.json").read_text())


def test_leftovers_of_a_kill_during_a_write_are_ignored(tiny_cohort, tmp_path, uninterrupted, train_args):
    """A kill while writing leaves only temporary folders; the good ones stay readable and are used."""
    out = tmp_path / "run"
    assert train_loop.main(["--strategy", "ecg_base", *args_for(tiny_cohort, tmp_path, out, train_args),
                            "--max-steps", "4"]) == 0
    best = (out / "best" / "model.safetensors").read_bytes()
    (out / ".best.tmp-999").mkdir()
    (out / ".best.tmp-999" / "model.safetensors").write_bytes(b"half")
    (out / ".state.tmp").mkdir()
    (out / ".state.tmp" / "model.safetensors").write_bytes(b"half")
    assert train_loop.main(["--strategy", "ecg_base", "--resume", str(out), "--max-steps", "0"]) == 0
    assert (out / "last" / "model.safetensors").read_bytes() == \
        (uninterrupted / "last" / "model.safetensors").read_bytes()
    assert (out / "best" / "model.safetensors").read_bytes() != b"half" and best


def test_resume_from_another_strategy_is_refused(tiny_cohort, tmp_path, uninterrupted, capsys):
    code = train_loop.main(["--strategy", "eeg_base", "--resume", str(uninterrupted)])
    assert code == 2
    assert capsys.readouterr().err.strip() == (f"error: --resume {uninterrupted}: that run's strategy is "
                                               "'ecg_base', this run's is 'eeg_base'")


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_planted_pickle_in_the_saved_state_is_refused(tiny_cohort, tmp_path, train_args, capsys, monkeypatch):
    out = tmp_path / "run"
    assert train_loop.main(["--strategy", "ecg_base", *args_for(tiny_cohort, tmp_path, out, train_args),
                            "--max-steps", "2"]) == 0
    import pickle

    (out / "state" / "optimizer.bin").write_bytes(pickle.dumps(Exploit()))
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert train_loop.main(["--strategy", "ecg_base", "--resume", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: --resume {out}: the saved state could not be loaded safely "
                          "(only tensors and plain data are accepted)")
    assert not (tmp_path / "PWNED").exists()


def test_a_max_steps_stop_inside_an_epoch_keeps_the_best_record_of_the_schedule(tiny_cohort, tmp_path, train_args):
    """The validation at a --max-steps stop writes last/ and a first best/, but the best record stays empty,
    so the run resumed scores its first epoch end as its best, as an uninterrupted run does."""
    out = tmp_path / "stopped"
    assert train_loop.main(["--strategy", "ecg_base", *args_for(tiny_cohort, tmp_path, out, train_args),
                            "--max-steps", "3"]) == 0
    progress = json.loads((out / "state" / "progress.json").read_text())
    assert progress["global_step"] == 3 and progress["best"] is None and progress["stale"] == 0
    assert progress["history"] == []  # nor in the history of scheduled validations
    assert json.loads((out / "best" / "metrics.json").read_text())["step"] == 3


def test_progress_keeps_every_scheduled_validation(uninterrupted):
    progress = json.loads((uninterrupted / "state" / "progress.json").read_text())
    last = json.loads((uninterrupted / "last" / "metrics.json").read_text())
    assert [h["epoch"] for h in progress["history"]] == [1, 2]
    assert progress["history"][-1]["kappa"] == last["kappa"] and progress["history"][-1]["step"] == last["step"]
