"""The night's picture: the predicted hypnogram above its hypnodensity (and the scored one, if any)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # no screen needed
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# Top to bottom as hypnograms are drawn: wake, REM, then lighter to deeper sleep.
DRAW_ORDER = ("W", "Wake", "REM", "R", "N1", "Light", "NREM", "N2", "Deep", "N3")
STAGE_COLOURS = {"W": "#f2c14e", "REM": "#d1495b", "R": "#d1495b", "N1": "#9ecae1", "Light": "#6baed6",
                 "NREM": "#4292c6", "N2": "#4292c6", "Deep": "#08519c", "N3": "#08519c"}


def _levels(class_names: Sequence[str]) -> np.ndarray:
    """y level of each class: the top stage of DRAW_ORDER highest."""
    rank = [DRAW_ORDER.index(name) if name in DRAW_ORDER else len(DRAW_ORDER) + i for i, name in enumerate(class_names)]
    order = np.argsort(rank)
    levels = np.empty(len(class_names), dtype=int)
    levels[order] = np.arange(len(class_names))[::-1]
    return levels


def _time_axis(n_epochs: int, epoch_s: float, start: dt.datetime | None):
    """Epoch edges (n_epochs + 1,) as datetimes when the clock is known, else hours."""
    edges_s = np.arange(n_epochs + 1) * epoch_s
    if start is None:
        return edges_s / 3600.0, False
    return np.array([start + dt.timedelta(seconds=float(s)) for s in edges_s]), True


def _draw_hypnogram(panel, stages: np.ndarray, class_names: Sequence[str], x, *, label: str) -> None:
    levels = _levels(class_names)
    stages = np.asarray(stages, dtype=int)
    y = np.where(stages >= 0, levels[np.clip(stages, 0, None)], np.nan)  # unscored (-1): a gap, not a stage
    y_steps = np.append(y, y[-1])
    panel.step(x, y_steps, where="post", color="0.25", linewidth=0.9)
    rem = next((i for i, n in enumerate(class_names) if n in ("REM", "R")), None)
    if rem is not None:  # REM drawn as thick red bars at its level, as clinical hypnograms do
        for k in np.flatnonzero(np.asarray(stages) == rem):
            panel.plot([x[k], x[k + 1]], [levels[rem]] * 2, color=STAGE_COLOURS["REM"], linewidth=4,
                       solid_capstyle="butt")
    panel.set_yticks(levels, class_names)
    panel.set_ylim(-0.5, len(class_names) - 0.5)
    panel.set_ylabel(label)


def night_figure(target: Path, proba: np.ndarray, stages: np.ndarray, class_names: Sequence[str], *,
                 epoch_s: float, start: dt.datetime | None, title: str,
                 scored: np.ndarray | None = None) -> None:
    """Write the PNG: predicted hypnogram, hypnodensity (stacked probabilities), scored hypnogram.

    ``proba`` is (n_epochs, n_classes); ``scored`` (n_epochs,) class indices with -1 where unscored.
    The x axis is clock time when ``start`` is known, else hours from the first epoch.
    """
    from sleep_kd.predict.writers import atomic_path

    n_epochs = len(stages)
    x, clock = _time_axis(n_epochs, epoch_s, start)
    rows = 3 if scored is not None else 2
    figure, panels = plt.subplots(rows, 1, figsize=(10, 1.9 * rows + 0.4), sharex=True,
                                  gridspec_kw={"height_ratios": [1.2, 1, 1.2][:rows]})
    _draw_hypnogram(panels[0], stages, class_names, x, label="predicted")
    order = np.argsort(-_levels(class_names))  # stack from the top stage down, as the hypnogram reads
    bottom = np.zeros(n_epochs)
    for k in order[::-1]:
        name = class_names[k]
        panels[1].fill_between(x, np.append(bottom + proba[:, k], bottom[-1] + proba[-1, k]),
                               np.append(bottom, bottom[-1]), step="post", linewidth=0,
                               color=STAGE_COLOURS.get(name), label=name)
        bottom = bottom + proba[:, k]
    panels[1].set_ylim(0, 1)
    panels[1].set_ylabel("probability")
    handles, names = panels[1].get_legend_handles_labels()  # listed top-down, as the stack reads
    panels[1].legend(handles[::-1], names[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
                     frameon=False)
    if scored is not None:
        _draw_hypnogram(panels[2], scored, class_names, x, label="scored")
        for k in np.flatnonzero(np.asarray(scored) < 0):
            panels[2].axvspan(x[k], x[k + 1], color="0.9", linewidth=0)
    if clock:
        panels[-1].xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
        panels[-1].set_xlabel("clock time")
    else:
        panels[-1].set_xlabel("hours")
    panels[-1].set_xlim(x[0], x[-1])
    panels[0].set_title(title, fontsize=9)
    figure.tight_layout()
    with atomic_path(target) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)
