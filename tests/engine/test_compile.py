"""train.compile: the compiled network trains, saves plain checkpoints, scores and resumes."""

import json

import torch
from safetensors.torch import load_file

import evaluate
import train_loop


def test_compiled_run_saves_plain_checkpoints_that_score_and_resume(tiny_cohort, tmp_path, train_args):
    out = tmp_path / "compiled"
    args = train_args(tiny_cohort, tmp_path, "--out", str(out), "--max-steps", "3")
    assert train_loop.main(["--strategy", "ecg_base", "--compile", *args]) == 0
    plain = tmp_path / "plain"
    assert train_loop.main(["--strategy", "ecg_base", *train_args(tiny_cohort, tmp_path, "--out", str(plain),
                                                                   "--max-steps", "1")]) == 0
    compiled_state = load_file(out / "last" / "model.safetensors")
    plain_state = load_file(plain / "last" / "model.safetensors")
    assert list(compiled_state) == list(plain_state)  # no "_orig_mod." prefixes
    assert all(compiled_state[k].shape == plain_state[k].shape for k in plain_state)
    assert not all(torch.equal(compiled_state[k], plain_state[k]) for k in plain_state)  # it did train
    report = tmp_path / "report.json"
    assert evaluate.main([str(out / "last"), "--split", "all", "--json", str(report), "--cpu"]) == 0
    assert json.loads(report.read_text())["n_epochs"] > 0
    assert train_loop.main(["--strategy", "ecg_base", "--resume", str(out), "--max-steps", "5"]) == 0
    assert json.loads((out / "last" / "metrics.json").read_text())["step"] == 5


def test_a_compiled_run_compiles_once_for_training_and_validates_eager(tiny_cohort, tmp_path, train_args):
    """40 windows an epoch at batch 16: two whole batches (the partial one of 8 is left out, a new shape
    would compile again), and validation runs the eager student (eval mode and no_grad would compile again)."""
    import torch._dynamo

    out = tmp_path / "once"
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    args = train_args(tiny_cohort, tmp_path, "--out", str(out), "--epochs", "2", "--set", "train.windows_per_epoch=40")
    assert train_loop.main(["--strategy", "ecg_base", "--compile", *args]) == 0
    assert dict(torch._dynamo.utils.counters["stats"])["unique_graphs"] == 1
    assert json.loads((out / "last" / "metrics.json").read_text())["step"] == 4  # 2 epochs x 2 whole batches


def test_whole_batches_leave_out_the_partial_batch_unless_an_epoch_is_shorter_than_one():
    from torch.utils.data import TensorDataset

    from sleep_kd.engine.data import make_loader

    dataset = TensorDataset(torch.arange(10))
    config = {"seed": 0, "data": {"num_workers": 0}, "train": {"batch_size": 4, "windows_per_epoch": 0}}
    assert len(make_loader(dataset, config, shuffle=True, pin_memory=False)) == 3
    assert len(make_loader(dataset, config, shuffle=True, pin_memory=False, whole_batches=True)) == 2
    assert [len(b[0]) for b in make_loader(dataset, config, shuffle=True, pin_memory=False, whole_batches=True)] == [4, 4]
    config["train"]["batch_size"] = 16
    assert len(make_loader(dataset, config, shuffle=True, pin_memory=False, whole_batches=True)) == 1
