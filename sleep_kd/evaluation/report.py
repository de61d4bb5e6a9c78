"""Readable tables of evaluation reports: one checkpoint in full, several side by side."""

from __future__ import annotations

import os
from pathlib import Path
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


def row_labels(reports: Sequence[dict]) -> list[str]:
    """A label per report: the papers' name of its strategy, and its folder where a strategy repeats.

    Two checkpoints of one strategy are told apart by their models where those differ
    (``ECG base [utime_small]``, ``ECG base [context_small]``), else by the part of their paths
    that differs (``runs/a/ecg_base/best`` and ``runs/b/ecg_base/best`` -> ``ECG base [a]``, ``ECG base [b]``).
    """
    names = dict(PAPER_ROWS)
    labels = [names.get(r["strategy"], r["strategy"]) for r in reports]
    for strategy in {r["strategy"] for r in reports}:
        same = [i for i, r in enumerate(reports) if r["strategy"] == strategy]
        if len(same) < 2:
            continue
        models = [reports[i].get("model") for i in same]
        if None not in models and len(set(models)) == len(models):
            for i, model in zip(same, models):
                labels[i] += f" [{model}]"
            continue
        parts = [Path(reports[i]["checkpoint"]).resolve().parts for i in same]
        head = len(os.path.commonprefix(parts))
        tail = len(os.path.commonprefix([p[::-1] for p in parts]))
        for i, part in zip(same, parts):
            differing = part[head:len(part) - tail] if len(part) - tail > head else part[-2:]
            labels[i] += f" [{'/'.join(differing) or reports[i]['checkpoint']}]"
    for label in {label for label in labels if labels.count(label) > 1}:  # the same folder given twice
        for n, i in enumerate(i for i, other in enumerate(labels) if other == label):
            labels[i] += f" #{n + 1}"
    return labels


def comparison_order(reports: Sequence[dict]) -> list[int]:
    """Indices of ``reports`` in the papers' order (by strategy), in the order given within a strategy."""
    rank = {name: k for k, (name, _) in enumerate(PAPER_ROWS)}
    return sorted(range(len(reports)), key=lambda i: (rank.get(reports[i]["strategy"], len(rank)), i))


def base_index(reports: Sequence[dict]) -> int | None:
    """The ECG base the others are measured against: the first ``ecg_base`` checkpoint given."""
    return next((i for i, r in enumerate(reports) if r["strategy"] == "ecg_base"), None)


def format_comparison(reports: Sequence[dict]) -> str:
    """Side-by-side table in the papers' order, one row per checkpoint, each against the ECG base."""
    labels = row_labels(reports)
    first_base = base_index(reports)
    base = reports[first_base] if first_base is not None else None
    width = max(22, *(len(label) + 2 for label in labels))
    header = f"{'model':<{width}}" + "".join(f"{m:>13}" for m in HEADLINE)
    if base is not None:
        header += f"{'d kappa':>10}{'d wF1 %':>10}"
    lines = [header, "-" * len(header)]
    for i in comparison_order(reports):
        report = reports[i]
        line = f"{labels[i]:<{width}}" + "".join(f"{report[m]:>13.4f}" for m in HEADLINE)
        if base is not None:
            gain = 100.0 * (report["weighted_f1"] - base["weighted_f1"]) / max(base["weighted_f1"], 1e-12)
            line += f"{report['kappa'] - base['kappa']:>+10.4f}{gain:>+10.1f}"
        lines.append(line)
    if base is not None:
        against = f" ({labels[first_base]})" if sum(r["strategy"] == "ecg_base" for r in reports) > 1 else ""
        lines.append(f"d kappa: change of Cohen's kappa against the ECG base{against}; d wF1 %: relative change of "
                     "weighted F1 (the papers' figure)")
    return "\n".join(lines)
