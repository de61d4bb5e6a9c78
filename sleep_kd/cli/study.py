"""``sleep-kd study NAME [options]``: the experiments behind the results (:mod:`sleep_kd.studies`).

Each study is also ``python -m sleep_kd.studies.NAME``.
"""

from __future__ import annotations

import sys

from sleep_kd.cli.dispatch import Subcommand, build_parser, run_subcommand
from sleep_kd.errors import cli_entry

STUDIES = {
    "kd_study": Subcommand("sleep_kd.studies.kd_study", "does the EEG teacher help the ECG student? k-fold, "
                                                        "each strategy, with and without night context"),
    "kd_seeds": Subcommand("sleep_kd.studies.kd_seeds", "the same question over seeds: paired changes against "
                                                        "ecg_base"),
    "label_budget": Subcommand("sleep_kd.studies.label_budget", "the ECG student with K scored training subjects: "
                                                                "where the teacher pays"),
    "label_budget_figure": Subcommand("sleep_kd.studies.label_budget_report", "the label-budget study's figure, "
                                                                              "made from its JSON"),
    "demo_note": Subcommand("sleep_kd.studies.demo_note", "what one demo run can show and what it cannot, "
                                                          "from the studies' results"),
    "teacher_signal": Subcommand("sleep_kd.studies.teacher_signal", "what the EEG teacher gives: agreement, "
                                                                    "calibration, softness of its targets"),
    "at_probe": Subcommand("sleep_kd.studies.at_probe", "what attention transfer moves into the ECG encoder"),
    "relabel_cohort": Subcommand("sleep_kd.studies.relabel_cohort", "a cohort copy whose scored stages agree with "
                                                                    "the true ones at a chosen rate"),
    "study_tables": Subcommand("sleep_kd.studies.study_tables", "markdown tables of a kd_study result"),
    "compare_studies": Subcommand("sleep_kd.studies.compare_studies", "two kd_study results of the same folds, "
                                                                      "paired by fold"),
    "results_page": Subcommand("sleep_kd.studies.results_page", "docs/results.md and the README's results "
                                                                "summary, rendered from results/*.json"),
    "context": Subcommand("sleep_kd.studies.context", "choose the epoch-sequence model: kappa and cost of tcn, "
                                                      "gru, transformer"),
    "context_onset": Subcommand("sleep_kd.studies.context_onset", "when an ECG context model starts to learn, "
                                                                  "from scratch or warm-started"),
}


@cli_entry
def main(argv: list[str] | None = None) -> int:
    """``sleep-kd study NAME [options]``: run one study; its exit status."""
    parser = build_parser("sleep-kd study", __doc__.split("\n\n")[0], STUDIES)
    return run_subcommand(parser, STUDIES, sys.argv[1:] if argv is None else [str(a) for a in argv])
