"""Several checkpoints on one split: the case analysis against the ECG base and the figures.

``evaluate.py CKPT --compare CKPT ... --figures DIR`` writes into DIR a confusion matrix per model
(``confusion-<model>.png``) and ``embedding.png``: each model's per-epoch bottleneck features in
2-D, one panel per model on the same axes, coloured by the true stage.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from sleep_kd.errors import InputError
from sleep_kd.evaluation.cases import align, case_analysis, epoch_keys, format_cases
from sleep_kd.evaluation.report import base_index, row_labels

BASES = ("ecg_base", "eeg_base")  # the two baselines; every other strategy is a student


def _keys(scored) -> list[tuple[str, int]]:
    predictions = scored.predictions
    return epoch_keys(scored.dataset.recordings, predictions.recording, predictions.epoch)


def add_cases(scoreds: Sequence, reports: list[dict]) -> list[str]:
    """Put ``cases`` (see :func:`~sleep_kd.evaluation.cases.case_analysis`) in every student's report,
    against the first ECG base given; return the printed lines (none without an ECG base)."""
    base = base_index(reports)
    if base is None:
        return []
    labels = row_labels(reports)
    base_keys = _keys(scoreds[base])
    base_pred = scoreds[base].predictions
    lines = []
    for i, (scored, report) in enumerate(zip(scoreds, reports)):
        if report["strategy"] in BASES:
            continue
        if report["data"] != reports[base]["data"]:  # the same recording ids may name other nights there
            lines.append(f"{labels[i]}: no case analysis, scored on {report['data']} but the ECG base on "
                         f"{reports[base]['data']} (pass --data to score both on one cohort)")
            continue
        if report["classes"] != reports[base]["classes"]:
            lines.append(f"{labels[i]}: no case analysis, its classes {report['classes']} are not the ECG base's "
                         f"{reports[base]['classes']}")
            continue
        at_base, at_student = align(base_keys, _keys(scored))
        cases = case_analysis(base_pred.y_true[at_base], base_pred.y_pred[at_base],
                              scored.predictions.y_pred[at_student], report["classes"])
        report["cases"] = {"against": reports[base]["checkpoint"], **cases}
        lines.append(format_cases(labels[i], labels[base], cases))
    return lines


def slug(label: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", label).strip("_").lower()


def write_figures(scoreds: Sequence, reports: Sequence[dict], out: Path, *, method: str = "pca",
                  max_points: int = 2000, batch_size: int = 128, seed: int = 0) -> list[Path]:
    """Confusion matrices and the shared-axes embedding of the models' bottleneck features; returns the files.

    The embedding uses the same epochs for every model: up to ``max_points`` of the epochs all of
    them scored, drawn at random with ``seed``.
    """
    import matplotlib.pyplot as plt

    from sleep_kd.engine.outputs import atomic_path
    from sleep_kd.engine.restore import model_from_checkpoint
    from sleep_kd.metrics import embedding
    from sleep_kd.metrics.figures import confusion_figure
    from sleep_kd.models import context_epochs_of

    keys = [_keys(s) for s in scoreds]
    common = sorted(set.intersection(*(set(k) for k in keys)))
    if len({tuple(r["classes"]) for r in reports}) > 1:
        raise InputError("--figures: the checkpoints predict different classes ("
                         + "; ".join(sorted({"/".join(r["classes"]) for r in reports})) + ")")
    if len({r["data"] for r in reports}) > 1 or not common:
        raise InputError("--figures: the checkpoints were scored on different cohorts or share no epoch "
                         f"({', '.join(sorted({r['data'] for r in reports}))}); pass --data to score all on one")
    labels = row_labels(reports)
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(common), size=min(max_points, len(common)), replace=False).tolist())
    chosen_keys = [common[i] for i in chosen]
    panels = []  # every model's features before any file is written: a failure leaves no partial set
    for label, scored, own_keys, report in zip(labels, scoreds, keys, reports):
        _, at = align(chosen_keys, own_keys)
        model, _ = model_from_checkpoint(scored.checkpoint.path)
        predictions = scored.predictions
        # A window model's prediction index is its dataset item; a context model's items are
        # sequences, so its epochs are named by (recording, epoch).
        items = list(zip(predictions.recording[at].tolist(), predictions.epoch[at].tolist())) \
            if context_epochs_of(model) else at.tolist()
        features = embedding.bottleneck_features(model, scored.dataset, items, modality=report["modality"],
                                       batch_size=batch_size)
        panels.append((label, embedding.embed(features, method=method, seed=seed), predictions.y_true[at]))
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def save(figure, name: str) -> None:
        with atomic_path(out / name) as tmp:
            figure.savefig(tmp, format="png", dpi=110)
        plt.close(figure)
        written.append(out / name)

    for label, report in zip(labels, reports):
        save(confusion_figure(np.array(report["confusion_matrix"]), report["classes"], title=label),
             f"confusion-{slug(label)}.png")
    save(embedding.embedding_figure(panels, reports[0]["classes"], method=method), "embedding.png")
    return written
