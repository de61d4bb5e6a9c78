"""When does an ECG context model start to learn? From scratch against an encoder started from one window.

A bare loop (no train_loop.py: no validation schedule, no checkpoints) that trains ``context_small``
with cross-entropy on the counted epochs of T-epoch training sequences and scores every validation
epoch once every ``--every`` training windows; the figure is the validation kappa along the way.

    python bench/context_onset.py --data COHORT.h5 [--encoder-init ONE_WINDOW_CKPT] [--windows 12000]
        [--sequences 3] [--lr 1e-3] [--cosine] [--freeze-encoder-norm] [--fold 0]

``--encoder-init`` loads a single-window checkpoint of ``utime_small`` into the per-epoch encoder (as
``paths.encoder_init`` does); ``--freeze-encoder-norm`` keeps the encoder's BatchNorm layers in
eval mode (their statistics stay the checkpoint's); ``--cosine`` decays the rate to zero over the run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import record  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--encoder-init", type=Path)
    parser.add_argument("--windows", type=int, default=12000, help="training windows (counted epochs) in all")
    parser.add_argument("--every", type=int, default=3000, help="validate every N training windows")
    parser.add_argument("--sequences", type=int, default=3, help="sequences per batch")
    parser.add_argument("--context", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--cosine", action="store_true")
    parser.add_argument("--freeze-encoder-norm", action="store_true")
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    import numpy as np
    import torch
    from safetensors.torch import load_file
    from sklearn.metrics import cohen_kappa_score

    from sleep_kd.data.sequences import CohortSequences
    from sleep_kd.data.splits import make_splits
    from sleep_kd.models import create_model

    splits = make_splits(args.data, method="kfold", k=5, fold=args.fold)
    options = dict(n_classes=4, sfreq=100.0, window_s=30.0, normalization="minmax", modalities=("ecg",),
                   context_epochs=args.context)
    train = CohortSequences(args.data, recordings=splits["train"], train=True, seed=args.seed, **options)
    val = CohortSequences(args.data, recordings=splits["val"], train=False, **options)
    items = val.__getitems__(list(range(len(val))))
    val_x, val_y = torch.stack([i["ecg"] for i in items]), torch.stack([i["label"] for i in items])

    torch.manual_seed(args.seed)
    model = create_model("context_small", n_classes=4, context_epochs=args.context)
    if args.encoder_init:
        model.encoder.load_state_dict(load_file(args.encoder_init / "model.safetensors"))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.windows // (args.sequences * args.context) + 1
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda k: 0.5 * (1 + np.cos(np.pi * min(k / steps, 1.0))) if args.cosine else 1.0)

    def train_mode():
        model.train()
        if args.freeze_encoder_norm:
            for module in model.encoder.modules():
                if isinstance(module, torch.nn.BatchNorm1d):
                    module.eval()

    def val_kappa() -> float:
        model.eval()
        with torch.no_grad():
            logits = torch.cat([model(val_x[i:i + 8]) for i in range(0, len(val_x), 8)])
        train_mode()
        counted = val_y >= 0
        return float(cohen_kappa_score(val_y[counted].numpy(), logits[counted].argmax(-1).numpy()))

    curve = [(0, val_kappa())]
    rng, seen, epoch, began = np.random.default_rng(args.seed), 0, 0, time.perf_counter()
    train_mode()
    while seen < args.windows:
        order = rng.permutation(len(train))
        for first in range(0, len(order), args.sequences):
            batch = train.__getitems__([train.item_index(i, epoch) for i in order[first:first + args.sequences]])
            x, y = torch.stack([b["ecg"] for b in batch]), torch.stack([b["label"] for b in batch]).reshape(-1)
            counted = y >= 0
            loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, 4)[counted], y[counted])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            before, seen = seen, seen + int(counted.sum())
            if seen // args.every != before // args.every:
                curve.append((seen, val_kappa()))
                print(f"{seen} windows: validation kappa {curve[-1][1]:.3f}", flush=True)
            if seen >= args.windows:
                break
        epoch += 1
    record("context_onset", {"data": str(args.data), "fold": args.fold, "encoder_init": str(args.encoder_init),
                             "sequences_per_batch": args.sequences, "lr": args.lr, "cosine": args.cosine,
                             "freeze_encoder_norm": args.freeze_encoder_norm, "seconds": time.perf_counter() - began,
                             "val_kappa_by_windows": curve}, quick=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
