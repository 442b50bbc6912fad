"""Figures for a run: each function draws one PNG, writes it atomically and returns its path.

Figures are built on ``matplotlib.figure.Figure`` with the Agg canvas directly, so nothing here touches
pyplot's global state or needs a display. Field figures live in :mod:`pinngen.report.plots_fields`, prediction
figures (supervised, images) in :mod:`pinngen.report.plots_predictions`; all are importable from here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from pinngen.core.findings import Finding
from pinngen.core.history import History
from pinngen.report.draw import (
    INF_COLOR,
    SEVERITY_COLORS,
    TERM_COLORS,
    draw_curve,
    mark_non_finite,
    new_figure,
    no_data,
    phase_blocks,
    save_png,
    shade_phases,
)
from pinngen.report.plots_fields import plot_field_comparison, plot_slices
from pinngen.report.plots_predictions import plot_confusion, plot_image_grid, plot_pred_vs_true

__all__ = [
    "plot_confusion",
    "plot_field_comparison",
    "plot_image_grid",
    "plot_loss_curves",
    "plot_lr_find",
    "plot_pred_vs_true",
    "plot_slices",
    "plot_unknowns",
]


# ---------------------------------------------------------------------------------------------- loss
def _mark_findings(ax, history: History, findings: Sequence[Finding]) -> None:
    placed: dict[int, int] = {}
    for f in findings:
        if f.step is None:
            continue
        color = SEVERITY_COLORS.get(f.severity, "#7f8c8d")
        ax.axvline(f.step, color=color, ls=":", lw=1.4, zorder=3)
        k = placed.get(f.step, 0)
        placed[f.step] = k + 1
        ax.text(f.step, 0.03 + 0.3 * k, f" {f.code}", rotation=90, transform=ax.get_xaxis_transform(),
                ha="right", va="bottom", fontsize=8, color=color, zorder=6,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75})
        if f.series in history:
            s, v = history.series(f.series)
            if s.size:
                i = int(np.argmin(np.abs(s - f.step)))
                if np.isfinite(v[i]) and v[i] > 0:
                    ax.plot([s[i]], [v[i]], marker="o", ms=7, mfc="none", mec=color, mew=2, zorder=6)


def _all_positive(history: History, names: Sequence[str]) -> bool:
    for name in names:
        _, v = history.series(name)
        v = v[np.isfinite(v)]
        if v.size and np.any(v <= 0):
            return False
    return True


OBJECTIVE_COLORS = ("#17202a", "#922b21", "#1a5276", "#7d6608")


def plot_loss_curves(
    history: History,
    findings: Sequence[Finding] | None,
    path: str | os.PathLike,
    *,
    title: str | None = None,
) -> Path:
    """Training loss, its named terms, validation curves, optimizer phases and findings; lr/grad norm below.

    The y-axis is logarithmic unless the total loss takes non-positive values (e.g. a negative
    log-likelihood), where it falls back to symlog. Recorded non-finite values (+inf) are drawn as red
    crosses at the top edge. Curves with more than ~200 points are drawn raw (faint) plus smoothed.
    """
    findings = list(findings or [])
    terms = history.term_names()
    val_cols = [c for c in history.columns if c == "val/loss" or c.startswith("val/loss/")]
    has_lower = any(c in history for c in ("lr", "grad_norm"))
    fig = new_figure(10, 6.6 if has_lower else 4.8)
    if has_lower:
        ax, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.25))
    else:
        ax, ax2 = fig.subplots(1, 1), None
    fig.suptitle(title or "Training loss", fontsize=13, fontweight="bold")

    loss_cols = [c for c in ("loss",) if c in history] + [f"loss/{t}" for t in terms] + val_cols
    if not loss_cols:
        no_data(ax, "no loss recorded")
        return save_png(fig, path)
    log = "loss" not in history or _all_positive(history, ["loss"])
    if log:
        ax.set_yscale("log")
    else:  # linear within the smallest magnitudes the loss reaches, log beyond
        _, v = history.series("loss")
        mag = np.abs(v[np.isfinite(v) & (v != 0)])
        ax.set_yscale("symlog", linthresh=float(np.percentile(mag, 5)) if mag.size else 1.0)
    blocks = phase_blocks(history)
    shade_phases(ax, blocks, label=True)

    colors = {t: TERM_COLORS[i % len(TERM_COLORS)] for i, t in enumerate(terms)}
    curves = []
    smoothed = False
    objectives = _objectives(history)
    if objectives:  # players pulling against each other: each one's objective, never their sum
        for i, name in enumerate(objectives):
            s, v = history.series(f"loss/{name}")
            smoothed |= draw_curve(ax, s, v, log=log, color=OBJECTIVE_COLORS[i % len(OBJECTIVE_COLORS)],
                                   label=f"{name} objective", blocks=blocks, lw=2.0, zorder=4)
            curves.append((s, v))
    elif "loss" in history:
        s, v = history.series("loss")
        smoothed |= draw_curve(ax, s, v, log=log, color="#17202a", label="total loss", blocks=blocks, lw=2.0,
                           zorder=4)
        curves.append((s, v))
    for t in terms:
        s, v = history.series(f"loss/{t}")
        smoothed |= draw_curve(ax, s, v, log=log, color=colors[t], label=t, blocks=blocks, lw=1.0)
        curves.append((s, v))
    for c in val_cols:
        s, v = history.series(c)
        term = c[len("val/loss/"):] if c.startswith("val/loss/") else None
        color = colors.get(term, "#17202a") if term else "#17202a"
        label = f"val {term}" if term else "val loss"
        draw_curve(ax, s, v, log=log, color=color, label=label, lw=1.2, ls="--", marker="o", ms=4, zorder=4)
        curves.append((s, v))
    mark_non_finite(ax, curves)
    _mark_findings(ax, history, findings)
    ax.set_ylabel("loss" + (" (log scale)" if log else " (symlog scale)"), fontsize=10)
    ax.grid(True, which="major", alpha=0.35)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8.5, frameon=False,
              title="faint: raw values\nsolid: smoothed" if smoothed else None, title_fontsize=8)
    if ax2 is None:
        ax.set_xlabel("optimizer step", fontsize=10)
    else:
        _lr_grad_panel(ax2, history, blocks)
    return save_png(fig, path)


def _objectives(history: History) -> list[str]:
    """Objectives of a multi-player run (``meta["objectives"]``) that were recorded; [] otherwise."""
    names = list((history.meta or {}).get("objectives") or {})
    names = [n for n in names if f"loss/{n}" in history]
    return names if len(names) > 1 else []


def _lr_grad_panel(ax, history: History, blocks) -> None:
    shade_phases(ax, blocks, label=False)
    axes = [ax]
    objectives = _objectives(history)
    lr_cols = [(f"lr/{n}", f"lr {n}") for n in objectives] or [("lr", "learning rate")]
    gn_cols = [(f"grad_norm/{n}", f"grad norm {n}") for n in objectives] or [("grad_norm", "grad norm")]
    has_lr = any(c in history for c, _ in lr_cols)
    for i, (col, label) in enumerate(c for c in lr_cols if c[0] in history):
        s, v = history.series(col)
        ok = np.isfinite(v) & (v > 0)
        ax.plot(s[ok], v[ok], color="#16a085", lw=1.5, ls=("-", "--", ":")[i % 3], label=label)
    if has_lr:
        ax.set_yscale("log")
        ax.set_ylabel("learning rate", fontsize=10, color="#16a085")
    if any(c in history for c, _ in gn_cols):
        gax = ax.twinx() if has_lr else ax
        if gax is not ax:
            axes.append(gax)
        gax.set_yscale("log")
        for i, (col, label) in enumerate(c for c in gn_cols if c[0] in history):
            s, v = history.series(col)
            draw_curve(gax, s, v, log=True, color=("#8e44ad", "#d35400", "#2c3e50")[i % 3], label=label,
                       blocks=blocks, lw=1.2)
            mark_non_finite(gax, [(s, v)])
        gax.set_ylabel("gradient L2 norm", fontsize=10, color="#8e44ad")
    ax.grid(True, which="major", alpha=0.35)
    ax.set_xlabel("optimizer step", fontsize=10)
    handles = [h for a in axes for h in a.get_legend_handles_labels()[0]]
    if handles:
        anchor = 1.08 if len(axes) > 1 else 1.01  # clear of the right-hand axis label
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(anchor, 1), fontsize=8.5, frameon=False)


# ---------------------------------------------------------------------------------------------- lr finder
def plot_lr_find(
    lrs: Sequence[float], losses: Sequence[float], suggestion: float | None, path: str | os.PathLike
) -> Path:
    """Loss against learning rate from an LR range test (log x), with the suggested rate marked."""
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    losses = np.asarray(losses, dtype=float).reshape(-1)
    if lrs.shape != losses.shape:
        raise ValueError(f"lrs has {lrs.size} values but losses has {losses.size}")
    fig = new_figure(7.5, 4.5)
    ax = fig.subplots()
    ok = np.isfinite(losses)
    log_y = bool(np.all(losses[ok] > 0)) and ok.any()
    ax.plot(lrs[ok], losses[ok], color="#1f77b4", lw=1.8, marker=".", ms=4, label="loss")
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    if (~ok).any():
        ax.plot(lrs[~ok], np.full((~ok).sum(), 0.97), ls="none", marker="x", ms=8, mew=2, color=INF_COLOR,
                transform=ax.get_xaxis_transform(), clip_on=False, label="diverged (non-finite)")
    if suggestion is not None and np.isfinite(suggestion):
        ax.axvline(suggestion, color="#c0392b", ls="--", lw=1.5, label=f"suggested lr = {suggestion:.2e}")
        if ok.any():
            i = int(np.argmin(np.abs(np.log(lrs[ok]) - np.log(suggestion))))
            ax.plot([lrs[ok][i]], [losses[ok][i]], marker="o", ms=9, mfc="none", mec="#c0392b", mew=2)
    ax.set_xlabel("learning rate (log scale)", fontsize=10)
    ax.set_ylabel("training loss" + (" (log scale)" if log_y else ""), fontsize=10)
    ax.set_title("Learning-rate range test", fontsize=12, fontweight="bold")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=9, frameon=False)
    return save_png(fig, path)


# ---------------------------------------------------------------------------------------------- unknowns
def plot_unknowns(
    history: History, path: str | os.PathLike, truths: Mapping[str, float] | None = None
) -> Path:
    """One panel per ``unknown/<name>`` column (identified PDE parameters), true values dashed.

    ``truths`` maps ``name`` (or ``unknown/name``) to the true value. Raises ValueError if the history
    has no unknown columns.
    """
    names = [c for c in history.columns if c.startswith("unknown/")]
    if not names:
        raise ValueError("history has no 'unknown/<name>' columns to plot")
    truths = dict(truths or {})
    fig = new_figure(8, 1.2 + 2.2 * len(names))
    axes = np.atleast_1d(fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0])
    fig.suptitle("Identified parameters", fontsize=12, fontweight="bold")
    blocks = phase_blocks(history)
    for i, (ax, col) in enumerate(zip(axes, names, strict=True)):
        name = col.split("/", 1)[1]
        shade_phases(ax, blocks, label=i == 0)
        s, v = history.series(col)
        ok = np.isfinite(v)
        ax.plot(s[ok], v[ok], color=TERM_COLORS[i % len(TERM_COLORS)], lw=1.8, label=f"{name} (estimate)")
        mark_non_finite(ax, [(s, v)])
        true = truths.get(name, truths.get(col))
        if true is not None:
            ax.axhline(true, color="#17202a", ls="--", lw=1.3, label=f"true {name} = {true:.4g}")
        if ok.any():
            ax.annotate(f"final {v[ok][-1]:.4g}", (s[ok][-1], v[ok][-1]), textcoords="offset points",
                        xytext=(-4, -12), ha="right", fontsize=9)
        ax.set_ylabel(name, fontsize=10)
        ax.grid(True, alpha=0.35)
        ax.legend(fontsize=8.5, frameon=False, loc="best")
    axes[-1].set_xlabel("optimizer step", fontsize=10)
    return save_png(fig, path)
