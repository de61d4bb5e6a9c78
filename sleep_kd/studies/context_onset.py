"""When does an ECG context model start to learn? From scratch against an encoder started from one window.

A bare loop (not the trainer: no validation schedule, no checkpoints) that trains ``context_small``
with cross-entropy on the counted epochs of T-epoch training sequences and scores every validation
epoch once every ``--every`` training windows; the figure is the validation kappa along the way.

    sleep-kd study context_onset --data COHORT.h5 [--encoder-init ONE_WINDOW_CKPT] [--windows 12000]
        [--sequences 3] [--lr 1e-3] [--cosine] [--freeze-encoder-norm] [--fold 0] [--out results/context_onset.jsonl]

``--encoder-init`` loads a single-window checkpoint of ``utime_small`` into the per-epoch encoder (as
``paths.encoder_init`` does); ``--freeze-encoder-norm`` keeps the encoder's BatchNorm layers in
eval mode (their statistics stay the checkpoint's); ``--cosine`` decays the rate to zero over the run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sleep_kd.errors import ArgumentParser, cli_entry
from sleep_kd.studies.common import append_line, check_cohort_file

N_CLASSES = 4


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="sleep-kd study context_onset", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="cohort HDF5 file")
    parser.add_argument("--encoder-init", type=Path, help="single-window checkpoint folder for the encoder")
    parser.add_argument("--windows", type=int, default=12000, help="training windows (counted epochs) in all")
    parser.add_argument("--every", type=int, default=3000, help="validate every N training windows")
    parser.add_argument("--sequences", type=int, default=3, help="sequences per batch")
    parser.add_argument("--context", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--cosine", action="store_true")
    parser.add_argument("--freeze-encoder-norm", action="store_true")
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("results/context_onset.jsonl"),
                        help="JSON-lines file the result is appended to")
    return parser


class OnsetRun:
    """``context_small`` with its optimiser, schedule and the fold's sequences (training and validation)."""

    def __init__(self, args: argparse.Namespace) -> None:
        import numpy as np
        import torch
        from safetensors.torch import load_file

        from sleep_kd.data.sequences import CohortSequences
        from sleep_kd.data.splits import make_splits
        from sleep_kd.models import create_model

        self.args = args
        splits = make_splits(args.data, method="kfold", k=5, fold=args.fold)
        options = dict(n_classes=N_CLASSES, sfreq=100.0, window_s=30.0, normalization="minmax", modalities=("ecg",),
                       context_epochs=args.context)
        self.train_set = CohortSequences(args.data, recordings=splits["train"], train=True, seed=args.seed, **options)
        val = CohortSequences(args.data, recordings=splits["val"], train=False, **options)
        items = val.__getitems__(list(range(len(val))))
        self.val_x, self.val_y = torch.stack([i["ecg"] for i in items]), torch.stack([i["label"] for i in items])
        torch.manual_seed(args.seed)
        self.model = create_model("context_small", n_classes=N_CLASSES, context_epochs=args.context)
        if args.encoder_init:
            self.model.encoder.load_state_dict(load_file(args.encoder_init / "model.safetensors"))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=args.lr)
        steps = args.windows // (args.sequences * args.context) + 1
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda k: 0.5 * (1 + np.cos(np.pi * min(k / steps, 1.0))) if args.cosine else 1.0)

    def train_mode(self) -> None:
        """Training mode; with ``--freeze-encoder-norm`` the encoder's BatchNorm layers stay in eval mode."""
        import torch

        self.model.train()
        if self.args.freeze_encoder_norm:
            for module in self.model.encoder.modules():
                if isinstance(module, torch.nn.BatchNorm1d):
                    module.eval()

    def val_kappa(self) -> float:
        """Cohen's kappa of the model on every counted validation epoch."""
        import torch
        from sklearn.metrics import cohen_kappa_score

        self.model.eval()
        with torch.no_grad():
            logits = torch.cat([self.model(self.val_x[i:i + 8]) for i in range(0, len(self.val_x), 8)])
        self.train_mode()
        counted = self.val_y >= 0
        return float(cohen_kappa_score(self.val_y[counted].numpy(), logits[counted].argmax(-1).numpy()))

    def step(self, indices: list[int]) -> int:
        """One optimiser step on the sequences ``indices``; the training windows it counted."""
        import torch

        batch = self.train_set.__getitems__(indices)
        x = torch.stack([b["ecg"] for b in batch])
        y = torch.stack([b["label"] for b in batch]).reshape(-1)
        counted = y >= 0
        loss = torch.nn.functional.cross_entropy(self.model(x).reshape(-1, N_CLASSES)[counted], y[counted])
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.schedule.step()
        return int(counted.sum())


def kappa_curve(run: OnsetRun) -> list[tuple[int, float]]:
    """``(training windows seen, validation kappa)`` from the start, every ``--every`` windows, to ``--windows``."""
    import numpy as np

    args = run.args
    curve = [(0, run.val_kappa())]
    rng, seen, epoch = np.random.default_rng(args.seed), 0, 0
    run.train_mode()
    while seen < args.windows:
        order = rng.permutation(len(run.train_set))
        for first in range(0, len(order), args.sequences):
            indices = [run.train_set.item_index(i, epoch) for i in order[first:first + args.sequences]]
            before, seen = seen, seen + run.step(indices)
            if seen // args.every != before // args.every:
                curve.append((seen, run.val_kappa()))
                print(f"{seen} windows: validation kappa {curve[-1][1]:.3f}", flush=True)
            if seen >= args.windows:
                break
        epoch += 1
    return curve


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    check_cohort_file(args.data)
    began = time.perf_counter()
    curve = kappa_curve(OnsetRun(args))
    append_line(args.out, "context_onset", {
        "data": str(args.data), "fold": args.fold, "encoder_init": str(args.encoder_init),
        "sequences_per_batch": args.sequences, "lr": args.lr, "cosine": args.cosine,
        "freeze_encoder_norm": args.freeze_encoder_norm, "seconds": time.perf_counter() - began,
        "val_kappa_by_windows": curve})
    return 0


if __name__ == "__main__":
    sys.exit(main())
