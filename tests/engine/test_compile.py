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
