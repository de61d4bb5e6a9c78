"""The reference pipeline's row for the demo's table (heart-rate features + logistic regression).

    sleep-kd reference [COHORT.h5]

Prints one table row in the format of evaluate.py's comparison, or a line saying why there is
none (``sleep_kd.baselines`` not installed). Its kappa is cross-validated over all subjects of the
cohort (5 subject-wise folds), not scored on the demo's test split alone.
"""

from __future__ import annotations

from pathlib import Path

from sleep_kd.errors import ArgumentParser, InputError, cli_entry


@cli_entry
def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="sleep-kd reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("cohort", nargs="?", type=Path, help="cohort HDF5 file (default: the embedded cohort)")
    args = parser.parse_args(argv)
    if args.cohort is not None and not args.cohort.is_file():
        raise InputError(f"{args.cohort}: no such cohort file")
    if args.cohort is not None:
        path = args.cohort
    else:
        from sleep_kd.data.default_cohort import ensure_default_cohort

        path = ensure_default_cohort()
    try:
        from sleep_kd.baselines import run_reference
    except ImportError:
        print("reference pipeline: not available (sleep_kd.baselines is not installed)")
        return 0
    truth = path.parent / "truth"
    kappa = run_reference(path, truth_dir=truth if truth.is_dir() else None, n_folds=5)["kappa"]
    print(f"reference pipeline (ECG features + logistic regression, 5-fold CV over all subjects): "
          f"kappa {kappa['ecg/epoch/scored']:.3f} epoch alone, {kappa['ecg/context/scored']:.3f} with +-5 epochs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
