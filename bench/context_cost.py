"""The training-step cost of each epoch-sequence model (tcn / gru / transformer) against one window.

``python -m bench.context_cost [--context 20] [--rounds 5]``

Seconds per training step (forward, a loss, backward and Adam) on random input, the variants
timed round-robin; every variant sees the same number of windows per step (2 sequences of
``--context`` epochs for the context variants, ``2 * context`` windows for U-Time alone). The
figure is each variant's step over U-Time's in the same round, median over rounds, beside the
parameter count. The kappa of each variant is a study: ``sleep-kd study context``.
"""

from __future__ import annotations

import argparse

from bench.common import interleaved, median, paired_ratio, record

VARIANTS = ("utime", "tcn", "gru", "transformer")


def step_costs(*, context: int, rounds: int) -> dict:
    """Per variant: parameters, median seconds per step and the step over U-Time's (per round, median)."""
    import torch

    from sleep_kd.models import create_model

    torch.manual_seed(0)
    sides, params = {}, {}
    for variant in VARIANTS:
        if variant == "utime":
            model, x = create_model("utime_small", n_classes=4), torch.rand(2 * context, 1, 3000)
        else:
            model = create_model("context_small", n_classes=4, context_epochs=context, sequence=variant)
            x = torch.rand(2, context, 1, 3000)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        params[variant] = sum(p.numel() for p in model.parameters())

        def one_step(model=model, x=x, optimizer=optimizer):
            loss = model(x).float().logsumexp(-1).mean()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        sides[variant] = one_step
    times = interleaved(sides, rounds=rounds, warmup=1)
    return {v: {"parameters": params[v], "step_s": median(times[v]),
                "step_vs_utime": paired_ratio(times[v], times["utime"])} for v in VARIANTS}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--context", type=int, default=20, help="epochs of context of the sequence models")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    return record("context_cost", {"context_epochs": args.context, "windows_per_step": 2 * args.context,
                                   "results": step_costs(context=args.context, rounds=args.rounds)}, quick=False)


if __name__ == "__main__":
    main()
