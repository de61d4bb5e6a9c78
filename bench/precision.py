"""Where a bf16 training step parts from an fp32 one: activations, ReLU gates, gradients, loss terms.

    python -m bench.precision                  # the default cohort's windows, utime_small at initialisation
    python -m bench.precision --checkpoint runs/.../ecg_base/best --batch 64

One training-mode step of the plain network on one batch of real cohort windows (ECG and EEG), in
fp32 and under bf16 autocast, each compared with the same step in float64:

- per convolution, the relative error of its output and the share of ReLU gates that flip;
- per part of the network (encoder levels, bottleneck, decoder levels, head), the cosine between
  the step's gradient and the float64 one;
- the cross-entropy each gives.

This is the measurement behind ``mixed_precision: auto`` training in fp32 (docs/precision.md). It
prints the CPU and its flags; it does not time anything.
"""

from __future__ import annotations

import argparse
import copy
import json

import numpy as np
import torch
import torch.nn.functional as F

from bench.common import machine
from sleep_kd.data.dataset import CohortWindows
from sleep_kd.data.default_cohort import ensure_default_cohort
from sleep_kd.engine.restore import model_from_checkpoint
from sleep_kd.models import create_model

PARTS = ("encoder.0", "encoder.1", "encoder.2", "encoder.3", "bottleneck", "decoder.0", "decoder.1",
         "decoder.2", "decoder.3", "dense", "classify")


def cohort_batch(path, modality: str, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(size, 1, 3000) windows of the cohort at 100 Hz, min-max scaled, and their 4-class stages."""
    dataset = CohortWindows(path, n_classes=4, sfreq=100.0, modalities=(modality,))
    index = sorted(np.random.default_rng(seed).choice(len(dataset), size, replace=False).tolist())
    items = dataset.__getitems__(index)
    return (torch.stack([torch.as_tensor(item[modality]) for item in items]),
            torch.stack([torch.as_tensor(item["label"]) for item in items]))


def one_step(model: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor, mode: str) -> dict:
    """Conv outputs (float64), the loss and the gradients of one training-mode step in ``mode``."""
    model = copy.deepcopy(model).train()
    for module in model.modules():
        if isinstance(module, torch.nn.ReLU):
            module.inplace = False  # the conv output the hook keeps must not be overwritten
    if mode == "float64":
        model, x = model.double(), x.double()
    outputs: dict[str, torch.Tensor] = {}
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv1d):
            module.register_forward_hook(lambda _m, _i, out, name=name: outputs.__setitem__(name, out.detach().double()))
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "bf16"):
        logits = model(x)
    loss = F.cross_entropy(logits.double(), labels)
    loss.backward()
    grads = {name: p.grad.detach().double().flatten() for name, p in model.named_parameters()}
    return {"convs": outputs, "loss": float(loss), "grads": grads}


def compare(step: dict, exact: dict) -> dict:
    """Per-conv activation error and gate flips, per-part gradient cosine, against the float64 step."""
    convs = {}
    for name, reference in exact["convs"].items():
        out = step["convs"][name]
        convs[name] = {"relative_error": float((out - reference).norm() / reference.norm()),
                       "relu_flips": float(((out > 0) != (reference > 0)).double().mean())}
    cosines = {}
    for part in PARTS + ("all",):
        names = [n for n in exact["grads"] if part == "all" or n.startswith(part + ".")]
        if names:
            a = torch.cat([step["grads"][n] for n in names])
            b = torch.cat([exact["grads"][n] for n in names])
            cosines[part] = float(F.cosine_similarity(a, b, dim=0))
    return {"convs": convs, "gradient_cosine": cosines, "loss": step["loss"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="a single-window checkpoint (default: utime_small at initialisation)")
    parser.add_argument("--data", help="cohort HDF5 file (default: the embedded synthetic cohort)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    if args.checkpoint:
        model = model_from_checkpoint(args.checkpoint)[0]
    else:
        torch.manual_seed(args.seed)
        model = create_model("utime_small", n_classes=4)
    print(json.dumps(machine()))
    path = args.data or ensure_default_cohort()
    figures = {}
    for modality in ("ecg", "eeg"):
        x, labels = cohort_batch(path, modality, args.batch, args.seed)
        exact = one_step(model, x, labels, "float64")
        figures[modality] = {mode: compare(one_step(model, x, labels, mode), exact) for mode in ("fp32", "bf16")}
        print(f"\n{modality.upper()} windows, batch {args.batch}: cosine of the step's gradient with float64's")
        print(f"{'part':12s} {'fp32':>10s} {'bf16':>8s}")
        for part in PARTS + ("all",):
            print(f"{part:12s} {figures[modality]['fp32']['gradient_cosine'][part]:10.6f} "
                  f"{figures[modality]['bf16']['gradient_cosine'][part]:8.4f}")
        print(f"cross-entropy: float64 {exact['loss']:.6f}, fp32 {figures[modality]['fp32']['loss']:.6f}, "
              f"bf16 {figures[modality]['bf16']['loss']:.6f}")
        print(f"{'bf16 convolution':28s} {'rel. error':>10s} {'ReLU flips':>10s}")
        for name, row in figures[modality]["bf16"]["convs"].items():
            print(f"{name:28s} {row['relative_error']:10.2e} {100 * row['relu_flips']:9.2f}%")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"machine": machine(), "batch": args.batch, "seed": args.seed,
                       "checkpoint": args.checkpoint, "figures": figures}, handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
