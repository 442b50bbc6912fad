"""The comparison page's figure: the loss curves of several runs overlaid on one axis."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from pinngen.core.history import History
from pinngen.report.draw import TERM_COLORS, draw_curve, new_figure, no_data, phase_blocks, save_png

OBJECTIVE_STYLES = (":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3)))


def objective_columns(history: History) -> list[tuple[str, str]]:
    """``(objective, column)`` for each objective of ``history.meta["objectives"]`` with a recorded loss.

    A multi-objective run (a GAN's generator and discriminator, see
    :mod:`pinngen.core.diagnose.objectives`) records ``meta["objectives"] = {name: [term, ...]}`` and each
    objective's total as ``loss/<name>``; names without that column are skipped.
    """
    objectives = (history.meta or {}).get("objectives") or {}
    names = list(objectives) if isinstance(objectives, Mapping | list | tuple) else []
    return [(str(n), f"loss/{n}") for n in names if f"loss/{n}" in history]


def plot_compare_losses(runs: Sequence[tuple[str, History | None]], path: str | os.PathLike, *,
                        title: str = "Training loss of each run") -> Path:
    """One colour per run: training loss solid, validation loss dashed; a run with several objectives
    draws each objective's loss in its own dash pattern instead of the total.

    Log scale when every drawn value is positive, else symlog (a negative log-likelihood can go below 0).
    """
    curves = []  # (steps, values, colour, style, label, blocks)
    for i, (label, history) in enumerate(runs):
        if history is None or len(history) == 0:
            continue
        color, blocks = TERM_COLORS[i % len(TERM_COLORS)], phase_blocks(history)
        objectives = objective_columns(history)
        # the total of objectives that pull against each other says nothing: draw each objective instead
        if "loss" in history and not objectives:
            curves.append((*history.series("loss"), color, "-", f"{label}: training", blocks))
        if "val/loss" in history and not objectives:
            curves.append((*history.series("val/loss"), color, "--", f"{label}: validation", ()))
        for j, (name, column) in enumerate(objectives):
            style = OBJECTIVE_STYLES[j % len(OBJECTIVE_STYLES)]
            curves.append((*history.series(column), color, style, f"{label}: {name}", blocks))
            if f"val/{column}" in history:
                curves.append((*history.series(f"val/{column}"), color, "--", f"{label}: {name} (validation)", ()))
    fig = new_figure(10, 5.4)
    ax = fig.subplots(1, 1)
    fig.suptitle(title, fontsize=13, fontweight="bold")
    if not curves:
        no_data(ax, "no loss recorded in any run")
        return save_png(fig, path)
    finite = np.concatenate([v[np.isfinite(v)] for _, v, *_ in curves])
    log = bool(finite.size) and bool(np.all(finite > 0))
    if log:
        ax.set_yscale("log")
    else:
        mag = np.abs(finite[finite != 0])
        ax.set_yscale("symlog", linthresh=float(np.percentile(mag, 5)) if mag.size else 1.0)
    for steps, values, color, style, label, blocks in curves:
        draw_curve(ax, steps, values, log=log, color=color, label=label, blocks=blocks, ls=style,
                   lw=1.3 if style == "--" else 1.7, marker="o" if style == "--" and values.size <= 30 else None,
                   ms=3)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, ncol=2 if len(curves) > 6 else 1, loc="best", framealpha=0.85)
    return save_png(fig, path)
