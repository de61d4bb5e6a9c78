"""Staging a new night: seconds per 8-h night for the EDF read, the preprocessing and the model.

``python -m bench.predict [--quick] [--ckpt CKPT] [--model utime_small] [--precision no|bf16]``

One synthetic 8-h MASS-like night (256 Hz EDF, written by ``sleep_kd.data.synthetic``) is staged
the way ``python -m sleep_kd.predict`` does it, each part timed on its own: ``read_night`` (MNE's
read of the ECG channel through ingest's reader), ``prepare_windows`` (resampling to the model's
rate, windows, normalisation) and ``score_night`` (the model, whole night in batches). Rounds
interleave the three parts (read, prepare, model, read, ...), and the medians are printed with
their ratios within the same rounds (the machine is shared: the ratios are the figures). Without
``--ckpt`` an untrained checkpoint of ``--model`` is written (the speed does not depend on the
weights). Prints the CPU model and its vector flags beside the figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.common import interleaved, machine, median, record, temp_dir

from sleep_kd.hardware import SPEED_FLAGS, cpu_speed_flags

def untrained_checkpoint(folder: Path, model_name: str) -> Path:
    """A checkpoint folder of an untrained ``model_name`` (4 classes, ECG, min-max windows)."""
    from sleep_kd.engine.checkpoint import save_checkpoint
    from sleep_kd.models import create_model

    model = create_model(model_name, n_classes=4)
    record_ = {"strategy": "ecg_base", "model": dict(model.config),
               "data": {"n_classes": 4, "class_names": ["W", "Light", "Deep", "REM"], "sfreq": model.sfreq,
                        "window_s": 30.0, "normalization": "minmax", "modality": "ecg"}}
    return save_checkpoint(folder / "ckpt", state_dict=model.state_dict(), config=record_, metrics={})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 1-h night, one round (smoke run)")
    parser.add_argument("--ckpt", help="checkpoint to time (default: an untrained --model)")
    parser.add_argument("--model", default="utime_small")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--precision", default="auto", help="no, bf16 or auto (as the checkpoint was trained)")
    args = parser.parse_args()
    from sleep_kd.data.synthetic import generate_cohort
    from sleep_kd.predict.night import prepare_windows, read_night
    from sleep_kd.predict.scoring import load_stager, score_night

    hours = 1.0 if args.quick else 8.0
    with temp_dir("predict") as work:
        work = Path(work)
        night = generate_cohort(work / "edf", n_subjects=1, hours=hours, seed=5, sfreq=256.0)[0]
        stager = load_stager(args.ckpt or untrained_checkpoint(work, args.model), cpu=True,
                             precision=args.precision)
        state: dict = {}

        def read():
            state["raw"] = read_night(night, modality=stager.modality)

        def prepare():
            state["windows"] = prepare_windows(state["raw"], sfreq=stager.sfreq, window_s=stager.window_s,
                                               epoch_s=30.0, normalization=stager.normalization)

        def model():
            score_night(stager.model, state["windows"], precision=stager.precision)

        times = interleaved({"read": read, "prepare": prepare, "model": model}, rounds=1 if args.quick else args.rounds)
    seconds = {part: median(values) for part, values in times.items()}
    per_8h = {f"{part}_s_per_8h": value * 8.0 / hours for part, value in seconds.items()}
    total = sum(seconds.values())
    figures = {"hours": hours, "n_epochs": int(len(state["windows"])), "precision": stager.precision,
               "model": stager.checkpoint.config.get("model", {}).get("name", "?"), **per_8h,
               "read_share": seconds["read"] / total, "prepare_share": seconds["prepare"] / total,
               "model_share": seconds["model"] / total, "model_over_read": seconds["model"] / seconds["read"],
               "cpu_flags": cpu_speed_flags(), "machine_shared": True}
    print(f"CPU: {machine()['cpu']}; flags: {' '.join(cpu_speed_flags()) or 'none of ' + ', '.join(SPEED_FLAGS)}")
    record("predict", figures, quick=args.quick)


if __name__ == "__main__":
    main()
