"""A context model's scoring rule, measured: ``tile`` against ``overlap`` (sleep_kd.evaluation.night_scoring).

``python -m bench.scoring_rule CKPT [CKPT ...] [--split test] [--rounds 3] [--quick]``, from the checkout.

For each context checkpoint (a folder ``.../best`` with a bidirectional sequence model), the
nights of its own ``--split`` are read once, as ``evaluate.py`` reads them, and scored by both
rules of :func:`~sleep_kd.evaluation.night_scoring.night_logits` on the CPU in fp32: Cohen's
kappa against the scored stages (and, for a synthetic cohort with ``truth/`` beside it, against
the true stages) over the same epochs, the share of epochs the two rules stage alike, and the
seconds per night of each rule, timed round by round (tile, overlap, tile, ...; the machine is
shared, so the ratio within rounds is the figure), and the ratio of their floating-point
operations on the first night (the same on any machine). Prints the CPU model and its vector flags
beside the figures, one line per checkpoint, and appends them to ``bench/results.jsonl``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from bench.common import count_flops, interleaved, machine, median, record
from sleep_kd.hardware import SPEED_FLAGS, cpu_speed_flags


def split_nights(checkpoint: Path, *, split: str, quick: bool):
    """(scoring copy of the model, nights [(windows (n, 1, n_times), labels (n,), recording id)], cohort)."""
    from sleep_kd.data.preparation import read_preparation
    from sleep_kd.fast import for_scoring
    from sleep_kd.engine.restore import model_from_checkpoint
    from sleep_kd.evaluation.live import whole_nights
    from sleep_kd.evaluation.scoring import split_of
    from sleep_kd.models import context_epochs_of, is_causal

    model, record_ = model_from_checkpoint(checkpoint)
    if not context_epochs_of(model) or is_causal(model):
        raise SystemExit(f"{checkpoint}: not a bidirectional context model (nothing to choose)")
    prep = read_preparation(record_.config, checkpoint=record_.path)
    recordings = split_of(Path(prep.path), prep, split)
    dataset = whole_nights(prep.path, context_epochs=prep.context_epochs, n_classes=prep.n_classes,
                           recordings=recordings[:1] if quick else recordings, sfreq=prep.sfreq,
                           window_s=prep.window_s, normalization=prep.normalization, modalities=(prep.modality,))
    nights = []
    for index, item in enumerate(dataset.__getitems__(range(len(dataset)))):
        n = int((item["epoch"] >= 0).sum())
        nights.append((item[prep.modality][:n], item["label"][:n].numpy(), dataset.recordings[index]))
    return for_scoring(model), nights, prep


def kappas(stages: dict[str, np.ndarray], labels: np.ndarray, n_classes: int) -> dict[str, float]:
    """Cohen's kappa of each rule's stages against ``labels`` (-1: not counted)."""
    from sleep_kd.metrics.scores import summary_scores

    kept = labels >= 0
    return {rule: summary_scores(labels[kept], s[kept], n_classes)["kappa"] for rule, s in stages.items()}


def measure(checkpoint: Path, *, split: str, rounds: int, quick: bool) -> dict:
    from sleep_kd.evaluation.night_scoring import CONTEXT_RULES, night_logits
    from sleep_kd.evaluation.truth import true_classes_of, truth_beside

    scorer, nights, prep = split_nights(checkpoint, split=split, quick=quick)
    stages: dict[str, np.ndarray] = {}

    def side(rule: str):
        def run():
            stages[rule] = np.concatenate([night_logits(scorer, windows, rule=rule).argmax(-1).numpy()
                                           for windows, _, _ in nights])
        return run

    with torch.inference_mode():
        times = interleaved({rule: side(rule) for rule in CONTEXT_RULES}, rounds=rounds)
    labels = np.concatenate([labels for _, labels, _ in nights])
    with torch.inference_mode():  # the work itself, free of the shared machine's noise: FLOPs of the first night
        flops = {rule: count_flops(lambda: night_logits(scorer, nights[0][0], rule=rule)) for rule in CONTEXT_RULES}
    figures = {"checkpoint": str(checkpoint), "split": split, "nights": len(nights),
               "epochs": int((labels >= 0).sum()), "context_epochs": prep.context_epochs,
               **{f"kappa_scored_{rule}": k for rule, k in kappas(stages, labels, prep.n_classes).items()},
               "same_stage_share": float(np.mean(stages["tile"][labels >= 0] == stages["overlap"][labels >= 0])),
               **{f"s_per_night_{rule}": median(t) / len(nights) for rule, t in times.items()},
               "overlap_over_tile_time": median([o / t for o, t in zip(times["overlap"], times["tile"])]),
               "overlap_over_tile_flops": flops["overlap"] / flops["tile"]}
    truth = truth_beside(prep.path)
    if truth is not None:
        ids = np.concatenate([[rid] * len(labels) for _, labels, rid in nights])
        epochs = np.concatenate([np.arange(len(labels)) for _, labels, _ in nights])
        true = true_classes_of(prep.path, truth, ids, epochs, n_classes=prep.n_classes)
        true[labels < 0] = -1  # the epochs evaluate.py counts
        figures.update({f"kappa_true_{rule}": k for rule, k in kappas(stages, true, prep.n_classes).items()})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", type=Path, help="context checkpoint folders (.../best)")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one night, one round (smoke run)")
    args = parser.parse_args()
    print(f"CPU: {machine()['cpu']}; flags: {' '.join(cpu_speed_flags()) or 'none of ' + ', '.join(SPEED_FLAGS)}")
    for checkpoint in args.checkpoints:
        figures = measure(checkpoint, split=args.split, rounds=1 if args.quick else args.rounds, quick=args.quick)
        record("scoring_rule", {**figures, "cpu_flags": cpu_speed_flags(), "machine_shared": True}, quick=args.quick)


if __name__ == "__main__":
    main()
