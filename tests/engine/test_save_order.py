"""The resumable state is written no later than the checkpoints it belongs with: a run killed between
the two resumes, and writes the checkpoints it missed."""

import json

import pytest

import train_loop
from sleep_kd.engine import trainer


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after it runs (not an Exception, so nothing catches it)."""


def test_a_run_killed_before_its_checkpoints_resumes_and_writes_them(tiny_cohort, tmp_path, train_args, monkeypatch,
                                                                     capsys):
    whole = tmp_path / "whole"
    assert train_loop.main(["--strategy", "ecg_base", *train_args(tiny_cohort, tmp_path, "--out", str(whole), "--max-steps", "2")]) == 0

    def killed_while_writing(directory, **_):
        raise Killed(directory)

    killed = tmp_path / "killed"
    monkeypatch.setattr(trainer, "save_checkpoint", killed_while_writing)
    with pytest.raises(Killed):
        train_loop.main(["--strategy", "ecg_base", *train_args(tiny_cohort, tmp_path, "--out", str(killed), "--max-steps", "2")])
    monkeypatch.undo()
    # Killed at its first checkpoint: the state of that validation is there (it used to be written after).
    assert not (killed / "last").exists() and not (killed / "best").exists()
    assert json.loads((killed / "state" / "progress.json").read_text())["global_step"] == 2
    capsys.readouterr()
    assert train_loop.main(["--strategy", "ecg_base", "--resume", str(killed), "--max-steps", "2"]) == 0
    assert "[sleep_kd] wrote last/ and best/ of step" in capsys.readouterr().out
    for name in ("last", "best"):
        assert (killed / name / "model.safetensors").read_bytes() == (whole / name / "model.safetensors").read_bytes()
        assert json.loads((killed / name / "metrics.json").read_text()) == \
            json.loads((whole / name / "metrics.json").read_text())
