"""The ``sleep-kd`` command: one door to every job, a subcommand each.

    sleep-kd synthesize --out edf --subjects 10 --hours 8       (python -m sleep_kd.data.synthetic)
    sleep-kd ingest --source mass --root edf --out cohort.h5    (python -m sleep_kd.data.ingest)
    sleep-kd train --strategy feat_temp                          (train_loop.py)
    sleep-kd evaluate runs/.../feat_temp/best                    (evaluate.py)
    sleep-kd predict runs/.../feat_temp/best night.edf --out staged
    sleep-kd study kd_study --data cohort.h5                     (the experiments)

Each subcommand runs the ``main(argv)`` of its module (:data:`SUBCOMMANDS`) and takes ``--help``.
"""

from __future__ import annotations

import sys

from sleep_kd import __version__
from sleep_kd.cli.dispatch import Subcommand, build_parser, run_subcommand
from sleep_kd.errors import cli_entry

SUBCOMMANDS = {
    "synthesize": Subcommand("sleep_kd.data.synthetic.__main__",
                             "write a synthetic PSG cohort laid out like MASS (EDF nights, true stages)"),
    "ingest": Subcommand("sleep_kd.data.ingest.__main__", "turn PSG recordings into one HDF5 cohort file"),
    "split": Subcommand("sleep_kd.data.splits", "split a cohort file's recordings by subject"),
    "train": Subcommand("sleep_kd.cli.train", "train one strategy (eeg_base, ecg_base, feat_train, feat_temp, "
                                               "feat_wce, kd_temp; the control ecg_self)"),
    "evaluate": Subcommand("sleep_kd.cli.evaluate", "score checkpoints on a split of their cohort, side by side"),
    "predict": Subcommand("sleep_kd.predict.__main__", "stage nights nobody has scored: hypnograms, figure, "
                                                       "sleep statistics"),
    "reference": Subcommand("sleep_kd.studies.reference", "the reference pipeline's kappa (heart-rate features "
                                                          "+ logistic regression)"),
    "study": Subcommand("sleep_kd.cli.study", "the experiments (kd_study, label_budget, ...): "
                                              "sleep-kd study --help"),
}
DESCRIPTION = "Sleep staging from one ECG lead, taught by an EEG model through knowledge distillation."


@cli_entry
def main(argv: list[str] | None = None) -> int:
    """``sleep-kd COMMAND [options]``: run one subcommand; its exit status (0, 1, 2 or 130)."""
    parser = build_parser("sleep-kd", DESCRIPTION, SUBCOMMANDS, version=__version__)
    return run_subcommand(parser, SUBCOMMANDS, sys.argv[1:] if argv is None else [str(a) for a in argv])
