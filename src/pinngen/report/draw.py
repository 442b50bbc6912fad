"""The drawing kit behind the report's figures: Agg figures that never touch pyplot, atomic PNG writes,
curves smoothed within each optimizer phase, phase shading and markers for non-finite values."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pinngen.core.history import History
from pinngen.core.io import atomic_write_bytes

DPI = 110
SEVERITY_COLORS = {"error": "#c0392b", "warning": "#d68910", "info": "#2e86c1"}
PHASE_COLORS = ("#eef3fb", "#fbf3e9", "#eef8f0", "#f6eef8")
TERM_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
INF_COLOR = "#d62728"
SMOOTH_ABOVE = 200  # points; above this a curve is drawn raw (faint) plus smoothed


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: str | os.PathLike) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def moving_average(values: np.ndarray) -> np.ndarray:
    """Centred moving average, window ~2% of the points, shrinking at the ends (no padding bias).

    Averaged in linear space even for log-scale plots: the result is the mean loss over the window, which
    is what an epoch or validation average reports; a log-space mean would sit below it under noise.
    """
    window = max(5, values.size // 50) | 1
    kernel = np.ones(window)
    data = values.astype(float)
    return np.convolve(data, kernel, mode="same") / np.convolve(np.ones_like(data), kernel, mode="same")


def draw_curve(ax, steps, values, *, log, color, label, blocks=(), lw=1.5, ls="-", marker=None, ms=4, zorder=2):
    """Plot the finite (and, on a log axis, positive) part of a curve.

    Curves with more than ``SMOOTH_ABOVE`` points are drawn raw (faint) with a smoothed line on top,
    smoothed within each optimizer phase so that a phase change is not blurred. Returns True if smoothed.
    """
    ok = np.isfinite(values) & ((values > 0) if log else True)
    s, v = steps[ok], values[ok]
    if v.size == 0:
        return False
    if marker is not None or v.size <= SMOOTH_ABOVE:
        ax.plot(s, v, color=color, lw=lw, ls=ls, marker=marker, ms=ms, label=label, zorder=zorder)
        return False
    ax.plot(s, v, color=color, lw=0.6, alpha=0.25, zorder=zorder)
    starts = [lo for _, lo, _ in blocks[1:]]
    block_of = np.searchsorted(starts, s, side="right")
    for b in np.unique(block_of):
        m = block_of == b
        smooth = moving_average(v[m]) if m.sum() >= 15 else v[m]
        first = b == block_of[0]
        ax.plot(s[m], smooth, color=color, lw=lw, ls=ls, zorder=zorder, label=label if first else None)
    return True


def mark_non_finite(ax, curves: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """Draw recorded non-finite values as red crosses clipped to the top of the axis."""
    steps = [s[~np.isfinite(v)] for s, v in curves]
    steps = np.concatenate(steps) if steps else np.zeros(0)
    if steps.size == 0:
        return False
    trans = ax.get_xaxis_transform()  # x in data units, y in axes units
    ax.plot(steps, np.full(steps.size, 0.97), ls="none", marker="x", ms=8, mew=2, color=INF_COLOR,
            transform=trans, clip_on=False, zorder=5, label="non-finite (inf/NaN)")
    return True


def phase_blocks(history: History) -> list[tuple[str, float, float]]:
    """Contiguous runs of one optimizer phase as (name, first step, first step of the next block)."""
    steps, phases = history.steps, history.phases
    blocks = []
    start = 0
    for i in range(1, len(phases) + 1):
        if i == len(phases) or phases[i] != phases[start]:
            end = float(steps[i]) if i < len(phases) else float(steps[-1])
            blocks.append((phases[start], float(steps[start]), end))
            start = i
    return blocks


def shade_phases(ax, blocks, *, label: bool) -> None:
    """Shade each phase block; blocks of the same optimizer share a colour (``w3/adam`` is an ``adam``).

    Labels that would not fit their block are left out; phases named ``<group>/<phase>`` (time-marching
    windows) are labelled once per group.
    """
    if len(blocks) < 2:
        return
    kinds: dict[str, int] = {}
    for i, (name, lo, hi) in enumerate(blocks):
        kind = (name or "").rsplit("/", 1)[-1]
        ax.axvspan(lo, hi, color=PHASE_COLORS[kinds.setdefault(kind, len(kinds)) % len(PHASE_COLORS)], zorder=0,
                   lw=0)
        if i > 0:
            ax.axvline(lo, color="#7f8c8d", lw=1, ls="-", zorder=1)
    if not label:
        return
    span = max(float(blocks[-1][2] - blocks[0][1]), 1e-12)
    for text, lo, hi in phase_labels(blocks):
        if text and (hi - lo) / span >= LABEL_CHAR_WIDTH * (len(text) + 1):
            ax.text(lo, 1.01, f" {text}", transform=ax.get_xaxis_transform(), ha="left", va="bottom",
                    fontsize=9, color="#34495e", fontweight="bold")


LABEL_CHAR_WIDTH = 0.0085  # a 9-pt bold character, as a fraction of the loss plot's width


def phase_labels(blocks) -> list[tuple[str, float, float]]:
    """``(text, lo, hi)`` per label: one per block, or one per group when every name is ``group/phase``."""
    names = [name or "" for name, _, _ in blocks]
    if not names or not all("/" in n for n in names):
        return [(name, lo, hi) for name, lo, hi in blocks]
    out: list[tuple[str, float, float]] = []
    for name, lo, hi in blocks:
        group = name.split("/", 1)[0]
        if out and out[-1][0] == group:
            out[-1] = (group, out[-1][1], hi)
        else:
            out.append((group, lo, hi))
    return out


def no_data(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=11, color="#7f8c8d")
