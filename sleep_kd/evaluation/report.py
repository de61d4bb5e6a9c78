"""Readable tables of evaluation reports: one checkpoint in full, several side by side."""

from __future__ import annotations

from typing import Sequence

from sleep_kd.metrics.scores import spread

HEADLINE = ("accuracy", "kappa", "macro_f1", "weighted_f1")
# The papers' table, in their order, under our strategy names.
PAPER_ROWS = (("eeg_base", "EEG base"), ("ecg_base", "ECG base"), ("kd_temp", "KD-Temp (SD+CL)"),
              ("feat_wce", "Feat-WCE (AT+CL)"), ("feat_temp", "Feat-Temp (AT+SD+CL)"), ("feat_train", "Feat-Train (AT)"))


def format_report(report: dict) -> str:
    """The full report of one checkpoint: headline figures, per class, confusion matrix, per subject."""
    precision = report.get("precision", "no").replace("no", "fp32")
    lines = [f"{report['strategy']} on {report['split']} ({report['n_epochs']} epochs, {report['modality']}, "
             f"{precision}): {report['checkpoint']}"]
    lines += [f"  {name:<12} {report[name]:.4f}" for name in HEADLINE]
    lines.append(f"  {'class':<8}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for name, row in report["per_class"].items():
        lines.append(f"  {name:<8}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}{row['support']:>9d}")
    names = report["classes"]
    lines.append("  confusion (rows true, columns predicted): " + " ".join(f"{n:>6}" for n in names))
    for name, row in zip(names, report["confusion_matrix"]):
        lines.append(f"  {name:>40} " + " ".join(f"{v:>6d}" for v in row))
    subjects = report["per_subject"]
    if subjects:
        for metric in ("kappa", "accuracy", "macro_f1"):
            s = spread([row[metric] for row in subjects])
            lines.append(f"  per subject {metric:<9} median {s['median']:.3f}, IQR {s['iqr']:.3f}, "
                         f"range {s['min']:.3f}-{s['max']:.3f} ({len(subjects)} subjects)")
    return "\n".join(lines)


def format_comparison(reports: Sequence[dict]) -> str:
    """Side-by-side table in the papers' order, each row with its change against the ECG base."""
    by_strategy = {r["strategy"]: r for r in reports}
    ordered = [(label, by_strategy[name]) for name, label in PAPER_ROWS if name in by_strategy]
    ordered += [(r["strategy"], r) for r in reports if r["strategy"] not in dict(PAPER_ROWS)]
    base = by_strategy.get("ecg_base")
    header = f"{'model':<22}" + "".join(f"{m:>13}" for m in HEADLINE)
    if base is not None:
        header += f"{'d kappa':>10}{'d wF1 %':>10}"
    lines = [header, "-" * len(header)]
    for label, report in ordered:
        line = f"{label:<22}" + "".join(f"{report[m]:>13.4f}" for m in HEADLINE)
        if base is not None:
            gain = 100.0 * (report["weighted_f1"] - base["weighted_f1"]) / max(base["weighted_f1"], 1e-12)
            line += f"{report['kappa'] - base['kappa']:>+10.4f}{gain:>+10.1f}"
        lines.append(line)
    if base is not None:
        lines.append("d kappa: change of Cohen's kappa against the ECG base; d wF1 %: relative change of "
                     "weighted F1 (the papers' figure)")
    return "\n".join(lines)
