"""train.fast_training: the faster equivalent forms train to the plain network's weights, in its checkpoint keys."""

import torch
from safetensors.torch import load_file

import train_loop


def test_training_with_and_without_the_fast_forms(tiny_cohort, tmp_path, train_args):
    runs = {}
    for fast in ("true", "false"):
        out = tmp_path / fast
        args = train_args(tiny_cohort, tmp_path, "--out", str(out), "--max-steps", "3", "--mixed-precision", "no",
                          "--set", f"train.fast_training={fast}")
        assert train_loop.main(["--strategy", "ecg_base", *args]) == 0
        runs[fast] = load_file(out / "last" / "model.safetensors")
    assert list(runs["true"]) == list(runs["false"])  # the plain network's checkpoint either way
    for key, value in runs["false"].items():  # three Adam steps of the same function: equal to float rounding
        torch.testing.assert_close(runs["true"][key], value, rtol=1e-3, atol=1e-4, msg=key)
