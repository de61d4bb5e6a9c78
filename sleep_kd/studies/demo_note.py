"""What one demo run can show and what it cannot, in the words of the studies' results.

    sleep-kd study demo_note [--results results]

``scripts/demo.sh`` ends with these lines. Every figure in them is read from ``results/*.json``
(the k-fold study, and the label-budget study when its file is there), so the demo never claims
more than the studies' intervals carry: a single fold of a single seed swings by more than any
distillation effect measured here.
"""

from __future__ import annotations

from pathlib import Path

from sleep_kd.errors import ArgumentParser, InputError, cli_entry
from sleep_kd.studies.label_budget_report import budget_name, budget_order, form_name
from sleep_kd.studies.results_page import KD_STUDY, LABEL_BUDGET, Results
from sleep_kd.studies.study_tables import cell

PREFIX = "[sleep_kd]"


def _clears_zero(entry: dict | None, side: int) -> bool:
    """A paired change over more than one fold whose 95 % interval lies above zero (side +1) or below it (-1)."""
    if not entry or entry["n"] < 2 or entry["low"] != entry["low"]:  # NaN: one fold, no interval
        return False
    return entry["low"] > 0 if side > 0 else entry["high"] < 0


def context_line(results: Results) -> str:
    """What the demo's own table can show: night context against one window (the study's interval)."""
    context = results.study(KD_STUDY)["summary"]["context20"]
    folds, lift = context["ecg_base"]["kappa"]["n"], context["ecg_base"]["change_vs_one_window"]["kappa"]
    verdict = "its interval lies above zero" if _clears_zero(lift, +1) else "its interval does not exclude zero"
    return (f"{PREFIX} what this run shows: the chain runs end to end, and night context against one window "
            f"(the two ECG base rows). The k-fold study measured that lift at {cell(lift)} kappa over {folds} "
            f"folds: {verdict}.")


def teacher_line(results: Results) -> str:
    """What it cannot show: the teacher's effect, with every night scored (the k-fold study)."""
    context = results.study(KD_STUDY)["summary"]["context20"]
    return (f"{PREFIX} what it cannot show: whether the EEG teacher helps. One fold and one seed swing "
            f"a student's kappa by more than the effect: with every training night scored the study found "
            f"KD-Temp - ECG base {cell(context['kd_temp']['change_vs_ecg_base']['kappa'])} "
            f"over {context['kd_temp']['kappa']['n']} folds (results/kd_study.json).")


def _where(entries: list[dict], key: str) -> str:
    return "; ".join(f"K={budget_name(e['budget'])} ({form_name(e)}): {cell(e[key])}" for e in entries)


def budget_line(result: dict) -> str:
    """The label-budget study's answer, control by control: where KD-Temp's interval clears zero either way.

    Every context entry counts (each K and form); nothing is picked by its mean. A partial study says so.
    """
    entries = [e for e in result["changes"] if e["context_epochs"] and "kd_temp_minus_ecg_base_kappa" in e]
    if not entries:
        raise InputError(f"{LABEL_BUDGET}: no context arm with KD-Temp's paired change")
    parts = []
    for key, control in (("kd_temp_minus_ecg_base_kappa", "the ECG base"),
                         ("kd_temp_minus_ecg_self_kappa", "self-training")):
        above = [e for e in entries if _clears_zero(e.get(key), +1)]
        below = [e for e in entries if _clears_zero(e.get(key), -1)]
        found = [f"interval above zero at {_where(above, key)}" if above else "interval above zero at no K",
                 f"below zero at {_where(below, key)}" if below else ""]
        parts.append(f"KD-Temp - {control}: " + ", ".join(p for p in found if p))
    budgets = sorted({e["budget"] for e in entries}, key=budget_order)
    partial = f", {len(result['missing'])} pieces not run yet" if result.get("missing") else ""
    return (f"{PREFIX} with few scored nights (K of the training subjects scored, K = "
            f"{', '.join(budget_name(b) for b in budgets)}{partial}): {'; '.join(parts)} (95 % intervals over "
            f"folds, results/label_budget.json).")


def note(results: Results) -> str:
    """The demo's closing lines; the label-budget line only when its result is in the folder."""
    lines = [context_line(results), teacher_line(results)]
    if (results.folder / LABEL_BUDGET).is_file():
        lines.append(budget_line(results.get(LABEL_BUDGET, keys=("rows", "changes"), what="a label_budget result")))
    lines.append(f"{PREFIX} every study's tables, with what they show and what they do not: docs/results.md")
    return "\n".join(lines)


@cli_entry
def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="sleep-kd study demo_note", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results"), help="the results folder (default: results)")
    args = parser.parse_args(argv)
    if not args.results.is_dir():
        raise InputError(f"{args.results}: no such folder (the results/*.json files; run from the checkout's root)")
    print(note(Results(args.results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
