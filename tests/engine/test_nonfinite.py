"""A NaN loss stops the run at the step it happens, naming the term; or is skipped and counted."""

import json

import pytest
import torch

import train_loop
from sleep_kd.losses import register_loss
from sleep_kd.losses.registry import LOSSES
from sleep_kd.strategies import Strategy, register_strategy, unregister_strategy


CALLS = {"n": 0}


@pytest.fixture
def poisoned():
    """A strategy whose extra term turns NaN on its third training call."""

    @register_loss()
    def poison(student, teacher, targets, **options):
        CALLS["n"] += 1
        value = torch.tensor(float("nan") if CALLS["n"] == 3 else 0.0)
        return value + 0.0 * student.logits.sum()

    register_strategy(Strategy(name="poisoned", student_modality="ecg", terms={"ce": 1.0, "poison": 1.0}))
    CALLS["n"] = 0
    yield
    unregister_strategy("poisoned")
    LOSSES.unregister("poison")


def test_nan_stops_at_its_step_naming_the_term(poisoned, tiny_cohort, tmp_path, capsys, train_args):
    out = tmp_path / "run"
    code = train_loop.main(["--strategy", "poisoned", *train_args(tiny_cohort, tmp_path, "--out", str(out))])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress bar
    assert err == "error: non-finite loss at step 3 (epoch 1, batch 3): poison_loss is nan; the last good " \
                  "checkpoint is kept"
    assert not (out / "best").exists()


def test_nan_batches_can_be_skipped_and_counted(poisoned, tiny_cohort, tmp_path, train_args):
    out = tmp_path / "run"
    code = train_loop.main(["--strategy", "poisoned", *train_args(tiny_cohort, tmp_path, "--out", str(out),
                                                                  "--max-steps", "5", "--set", "train.nonfinite=skip")])
    assert code == 0
    progress = json.loads((out / "state" / "progress.json").read_text())
    assert progress["skipped_batches"] == 1 and progress["global_step"] == 5
