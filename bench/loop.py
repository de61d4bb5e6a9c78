"""Loop efficiency: the real training loop's windows/s over a bare loop of the same step.

``python -m bench.loop [--quick] [--strategies ecg_base,kd_temp] [--precision bf16] [--workers 0] [--context 20] [--compile]``

The real side is the trainer (:func:`sleep_kd.cli.train.train`, as ``train_loop.py`` runs it) on a
synthetic cohort (HDF5 reads, normalisation, Accelerate, the finiteness check, logging): its rate is TensorBoard's ``train/epochs_per_s``
(windows/s between log points), the first reading dropped as warm-up. The bare side is the
same strategy step (same networks, loss terms, batch, precision; the teacher forward included)
with Adam on a batch already in memory. Rounds alternate real, bare; the figure is the median
of per-round ratios. A second table times the bare step with and without the per-step
``bool(torch.isfinite(loss))`` read, to price it. ``--compile``: both sides ``torch.compile`` the
student (``train.compile``; its compile falls in the real side's first, dropped, reading and in the
bare side's untimed first call).
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import torch

from bench.common import interleaved, make_cohort, median, paired_ratio, record, temp_dir, timed

from sleep_kd.hardware import resolve_mixed_precision

STRATEGIES = ("ecg_base", "feat_train", "kd_temp", "feat_wce", "feat_temp", "eeg_base")


def tb_rates(run_dir: Path) -> list[float]:
    """The ``train/epochs_per_s`` readings of a run, in step order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    rates = []
    for path in sorted(glob.glob(str(run_dir / "**" / "events.out.tfevents*"), recursive=True)):
        events = EventAccumulator(path)
        events.Reload()
        if "train/epochs_per_s" in events.Tags().get("scalars", []):
            rates += [e.value for e in events.Scalars("train/epochs_per_s")]
    return rates


def real_run(strategy: str, *, data: Path, work: Path, teacher: Path | None, batch: int, precision: str,
             steps: int, log_every: int, workers: int, init: Path | None = None, context: int = 0,
             compiled: bool = False) -> float:
    """Windows/s of the trainer (:func:`sleep_kd.cli.train.train`; median of its logged rates after the first)."""
    from sleep_kd.cli.train import TrainOptions, train

    out = work / f"run_{strategy}"
    options = TrainOptions.of(f"train.log_every={log_every}", f"data.num_workers={workers}", data=data, out=out,
                              runs=work / "runs", cpu=True, batch_size=batch, mixed_precision=precision,
                              max_steps=steps, epochs=1000, teacher=teacher,
                              init=init)  # feat_wce and feat_temp start from an ECG feat_train run
    if context:
        options += TrainOptions.of(f"model.context_epochs={context}", model="context_small")
    if compiled:  # a fresh dynamo state: many runs in one process would pass its recompile limit
        torch._dynamo.reset()
        options += TrainOptions.of("train.compile=true")
    code = train(strategy, options)
    if code:
        raise RuntimeError(f"training {strategy} with {' '.join(options.argv())} exited with {code}")
    rates = tb_rates(out)
    return median(rates[1:] if len(rates) > 1 else rates)


class BareStrategyStep:
    """The strategy's own step and Adam on one in-memory batch: what the loop would do with free data."""

    def __init__(self, strategy: str, *, batch: int, precision: str, check_finite: bool = False,
                 context: int = 0, compiled: bool = False) -> None:
        from sleep_kd.fast import for_training
        from sleep_kd.models import create_model
        from sleep_kd.strategies import build_step, get_strategy

        spec = get_strategy(strategy)
        name, options = ("context_small", {"context_epochs": context}) if context else ("utime_small", {})
        self.model = for_training(create_model(name, n_classes=4, **options).train(), compiled=compiled)  # as trained
        teacher = for_training(create_model(name, n_classes=4, **options)) if spec.teacher else None
        self.step = build_step(spec, student=self.model, teacher=teacher, class_weights=torch.ones(4))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        items = (max(1, batch // context), context) if context else (batch,)  # as the trainer batches sequences
        signal = torch.rand(*items, 1, self.model.n_times)
        self.batch = {"eeg": signal, "ecg": signal.clone(), "label": torch.randint(0, 4, items)}
        self.bf16, self.check = precision == "bf16", check_finite
        self.size = signal.shape[0] * (context or 1)  # windows a step
        if compiled:  # the student alone, as the trainer compiles it; bare_rate's untimed first call compiles
            self.step.student = torch.compile(self.model)

    def __call__(self) -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            terms = self.step(self.batch)
        if self.check and not bool(torch.isfinite(terms["loss"])):
            raise RuntimeError("non-finite loss")
        terms["loss"].backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)


def bare_rate(step: BareStrategyStep, steps: int) -> float:
    """Windows/s of ``steps`` bare steps (median step time), after one untimed call (a compile, if any)."""
    step()
    return step.size / median([timed(step) for _ in range(steps)])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny cohort, few steps, one round (smoke run)")
    parser.add_argument("--strategies", default=None, help=f"comma-separated (default: {','.join(STRATEGIES)})")
    parser.add_argument("--precision", default="auto", choices=("auto", "no", "bf16"),
                        help="auto: bf16 where this CPU runs it natively, else fp32 (sleep_kd/hardware.py)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--workers", type=int, default=0, help="data.num_workers of the real loop")
    parser.add_argument("--log-every", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps per real run (default 16)")
    parser.add_argument("--context", type=int, default=0,
                        help="T > 0: context_small over T epochs (the demo's context preset: 20)")
    parser.add_argument("--compile", action="store_true", help="train.compile on both sides")
    args = parser.parse_args(argv)
    args.precision = resolve_mixed_precision(args.precision, cuda=False)[0]
    strategies = args.strategies.split(",") if args.strategies else (["ecg_base", "kd_temp"] if args.quick
                                                                       else list(STRATEGIES))
    batch = args.batch_size or (8 if args.quick else 64)
    rounds, steps = args.rounds or (1 if args.quick else 3), args.steps or (6 if args.quick else 16)
    log_every = args.log_every or (2 if args.quick else 4)
    figures: dict = {"batch_size": batch, "precision": args.precision, "workers": args.workers, "context": args.context,
                     "compiled": args.compile,
                     "log_every": log_every, "steps_per_run": steps, "strategies": {}}
    with temp_dir("loop") as tmp:
        work = Path(tmp)
        data = make_cohort(work, n_subjects=6 if args.quick else 8, hours=0.25 if args.quick else 1.0)
        teacher_run = work / "run_eeg_base"
        real_run("eeg_base", data=data, work=work, teacher=None, batch=batch, precision=args.precision,
                 steps=2, log_every=1, workers=0, context=args.context)
        teacher = teacher_run / "best"
        init = None
        if {"feat_temp", "feat_wce"} & set(strategies):
            real_run("feat_train", data=data, work=work, teacher=teacher, batch=batch, precision=args.precision,
                     steps=2, log_every=1, workers=0, context=args.context)
            init = work / "run_feat_train" / "best"
        for strategy in strategies:
            needs = strategy in ("feat_train", "kd_temp", "feat_temp", "feat_wce")
            bare = BareStrategyStep(strategy, batch=batch, precision=args.precision, context=args.context,
                                    compiled=args.compile)
            real, free = [], []
            for _ in range(rounds):
                real.append(real_run(strategy, data=data, work=work, teacher=teacher if needs else None, batch=batch,
                                     precision=args.precision, steps=steps, log_every=log_every,
                                     workers=args.workers, init=init if strategy in ("feat_temp", "feat_wce") else None,
                                     context=args.context, compiled=args.compile))
                free.append(bare_rate(bare, steps // 2))
            ratio = median([r / f for r, f in zip(real, free)])
            figures["strategies"][strategy] = {"loop_efficiency": round(ratio, 3),
                                               "real_windows_per_s": round(median(real), 1),
                                               "bare_windows_per_s": round(median(free), 1)}
            print(f"{strategy:11s} loop/bare {ratio:.3f}  real {median(real):6.1f}  bare {median(free):6.1f} windows/s",
                  flush=True)
    checked = BareStrategyStep("ecg_base", batch=batch, precision=args.precision, check_finite=True)
    plain = BareStrategyStep("ecg_base", batch=batch, precision=args.precision)
    times = interleaved({"checked": checked, "plain": plain}, rounds=3 if args.quick else 10)
    figures["isfinite_check_cost"] = round(paired_ratio(times["checked"], times["plain"]) - 1.0, 4)
    return record("loop", figures, quick=args.quick)


if __name__ == "__main__":
    main()
