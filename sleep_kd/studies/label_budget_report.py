"""The label-budget study's table and figure, made from its JSON (``sleep-kd study label_budget``).

    sleep-kd study label_budget_figure [--result results/label_budget.json] [--out docs/label_budget.png]

The figure: test kappa against K scored training subjects, one line per arm (ECG base, ECG
self-training, KD-Temp), the 95 % t interval over folds shaded; one panel per form of the student
(one window, context, causal context) and per reference (scored, true stages). The table
(:func:`budget_table`, also rendered into ``docs/results.md``): per form and K, each arm's mean kappa
and the paired change of KD-Temp against the ECG base and against self-training, with intervals.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from sleep_kd.errors import ArgumentParser, InputError, cli_entry
from sleep_kd.studies.common import interval, read_result
from sleep_kd.studies.study_tables import cell

ARM_NAMES = {"ecg_base": "ECG base", "ecg_self": "ECG self-training", "kd_temp": "KD-Temp (EEG teacher)"}
ARM_COLOURS = {"ecg_base": "tab:grey", "ecg_self": "tab:blue", "kd_temp": "tab:red"}


def form_name(entry: dict) -> str:
    """``one window``, ``context T`` or ``context T, causal``."""
    if not entry["context_epochs"]:
        return "one window"
    return f"context {entry['context_epochs']}" + (", causal" if entry["causal"] else "")


def budget_name(budget: int) -> str:
    return str(budget) if budget else "all"


def budget_order(budget: int) -> float:
    """Sort key for K: ascending, with 0 ('all') last."""
    return budget or math.inf


def ordered(changes: list[dict]) -> list[dict]:
    """Forms in order (one window, context, causal), then K ascending with 'all' last."""
    return sorted(changes, key=lambda e: (e["context_epochs"], e["causal"], budget_order(e["budget"])))


def budget_table(result: dict, *, score: str = "kappa") -> str:
    """Markdown: per form and K, the folds, each arm's mean ``score`` and KD-Temp's paired changes."""
    against = "true stages" if score == "true_kappa" else "scored stages"
    lines = [f"| student | K scored | folds | ECG base | ECG self-training | KD-Temp | KD-Temp - ECG base [95 % CI] "
             f"| KD-Temp - self-training [95 % CI] |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for entry in ordered(result["changes"]):
        arms = entry.get("arms", {})
        means = [f"{arms[arm][score]['mean']:.3f}" if score in arms.get(arm, {}) else "-"
                 for arm in ("ecg_base", "ecg_self", "kd_temp")]
        folds = max((arms[arm][score]["n"] for arm in arms if score in arms[arm]), default=0)
        lines.append(f"| {form_name(entry)} | {budget_name(entry['budget'])} | {folds} | {' | '.join(means)} | "
                     f"{cell(entry.get(f'kd_temp_minus_ecg_base_{score}'))} | "
                     f"{cell(entry.get(f'kd_temp_minus_ecg_self_{score}'))} |")
    return f"Test kappa against the {against}, mean over folds.\n\n" + "\n".join(lines) + missing_text(result)


def missing_text(result: dict) -> str:
    """A paragraph naming, per K and form, the folds not run yet (a partial study); empty when complete."""
    missing: dict[tuple[int, int, bool], set[int]] = {}
    for piece in result.get("missing", []):
        missing.setdefault((piece["budget"], piece["context_epochs"], piece["causal"]), set()).add(piece["fold"])
    if not missing:
        return ""
    parts = [f"K={budget_name(b)} {form_name({'context_epochs': c, 'causal': causal})}: "
             f"fold{'s' if len(f) > 1 else ''} {', '.join(map(str, sorted(f)))}"
             for (b, c, causal), f in sorted(missing.items(), key=lambda item: (budget_order(item[0][0]), *item[0][1:]))]
    return f"\n\nNot run yet (a partial study; the folds column says how many each row holds): {'; '.join(parts)}."


def teacher_table(result: dict) -> str:
    """Markdown: the EEG teacher's validation kappa per form and K (mean over folds, 95 % interval)."""
    groups: dict[tuple[int, int], list[float]] = {}
    for entry in result.get("teachers", []):
        groups.setdefault((entry["context_epochs"], entry["budget"]), []).append(entry["val_kappa"])
    lines = ["| teacher | K scored | folds | EEG teacher validation kappa [95 % CI] |", "| --- | --- | --- | --- |"]
    for (context, budget), values in sorted(groups.items(), key=lambda item: (item[0][0], budget_order(item[0][1]))):
        spread = interval(values)
        figure = f"{spread['mean']:.3f}" + (f" [{spread['low']:.3f}, {spread['high']:.3f}]" if len(values) > 1 else "")
        lines.append(f"| {form_name({'context_epochs': context, 'causal': False})} | {budget_name(budget)} | "
                     f"{len(values)} | {figure} |")
    return "\n".join(lines)


def stage_table(result: dict) -> str:
    """Markdown: per form and K, each arm's mean per-stage F1 (Light, Deep, REM) against the scored stages."""
    lines = ["| student | K scored | arm | F1 Light | F1 Deep | F1 REM |", "| --- | --- | --- | --- | --- | --- |"]
    for entry in ordered(result["changes"]):
        for arm, scores in entry.get("arms", {}).items():
            f1 = [f"{scores[key]['mean']:.3f}" if key in scores else "-" for key in ("f1_Light", "f1_Deep", "f1_REM")]
            lines.append(f"| {form_name(entry)} | {budget_name(entry['budget'])} | {ARM_NAMES[arm]} | {' | '.join(f1)} |")
    return "\n".join(lines)


def draw(result: dict, out: Path) -> Path:
    """The figure: kappa against K per arm, intervals shaded; a row per reference, a column per form."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    forms = sorted({(e["context_epochs"], e["causal"]) for e in result["changes"]})
    scores = [s for s in ("kappa", "true_kappa")
              if any(s in arm for e in result["changes"] for arm in e.get("arms", {}).values())]
    if not forms or not scores:
        raise InputError("the label-budget result holds no scored rows to draw")
    budgets = sorted({e["budget"] for e in result["changes"]}, key=budget_order)
    position = {b: i for i, b in enumerate(budgets)}
    fig, axes = plt.subplots(len(scores), len(forms), figsize=(4.2 * len(forms), 3.4 * len(scores)),
                             squeeze=False, sharey="row")
    for row, score in enumerate(scores):
        for column, form in enumerate(forms):
            ax = axes[row][column]
            entries = [e for e in ordered(result["changes"]) if (e["context_epochs"], e["causal"]) == form]
            for arm, label in ARM_NAMES.items():
                points = [(position[e["budget"]], e["arms"][arm][score]) for e in entries
                          if score in e.get("arms", {}).get(arm, {})]
                if not points:
                    continue
                x = [p for p, _ in points]
                ax.plot(x, [i["mean"] for _, i in points], marker="o", color=ARM_COLOURS[arm], label=label)
                low = [i["low"] if i["n"] > 1 else i["mean"] for _, i in points]
                high = [i["high"] if i["n"] > 1 else i["mean"] for _, i in points]
                ax.fill_between(x, low, high, color=ARM_COLOURS[arm], alpha=0.18, linewidth=0)
            ax.set_xticks(range(len(budgets)), [budget_name(b) for b in budgets])
            ax.set_title(form_name(entries[0]) if entries else "")
            ax.set_xlabel("K scored training subjects")
            ax.set_ylabel("test kappa vs " + ("true stages" if score == "true_kappa" else "scored stages"))
            ax.grid(alpha=0.3)
    max(axes[0], key=lambda ax: len(ax.get_lines())).legend(fontsize=8, loc="lower right")  # the panel with every arm
    folds = sorted({r["fold"] for r in result["rows"]})
    fig.suptitle(f"ECG student on a label budget: mean over up to {len(folds)} folds, 95 % interval over folds "
                 f"shaded (none where one fold)", fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


@cli_entry
def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="sleep-kd study label_budget_figure", description=__doc__.split("\n\n")[1])
    parser.add_argument("--result", type=Path, default=Path("results/label_budget.json"))
    parser.add_argument("--out", type=Path, default=Path("docs/label_budget.png"))
    args = parser.parse_args(argv)
    if args.out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InputError(f"--out {args.out}: expected a .png, .svg or .pdf file")
    result = read_result(args.result, keys=("rows", "changes"), what="a label_budget result")
    print(f"wrote {draw(result, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
