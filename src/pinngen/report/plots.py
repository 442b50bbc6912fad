"""Figures for a run: each function draws one PNG, writes it atomically and returns its path.

Figures are built on ``matplotlib.figure.Figure`` with the Agg canvas directly, so nothing here touches
pyplot's global state or needs a display.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pinngen.core.findings import Finding
from pinngen.core.history import History
from pinngen.core.io import atomic_write_bytes

DPI = 110
SEVERITY_COLORS = {"error": "#c0392b", "warning": "#d68910", "info": "#2e86c1"}
PHASE_COLORS = ("#eef3fb", "#fbf3e9", "#eef8f0", "#f6eef8")
TERM_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
INF_COLOR = "#d62728"
SMOOTH_ABOVE = 200  # points; above this a curve is drawn raw (faint) plus smoothed


# ---------------------------------------------------------------------------------------------- helpers
def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | os.PathLike) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def _smooth(values: np.ndarray) -> np.ndarray:
    """Centred moving average, window ~2% of the points, shrinking at the ends (no padding bias).

    Averaged in linear space even for log-scale plots: the result is the mean loss over the window, which
    is what an epoch or validation average reports; a log-space mean would sit below it under noise.
    """
    window = max(5, values.size // 50) | 1
    kernel = np.ones(window)
    data = values.astype(float)
    return np.convolve(data, kernel, mode="same") / np.convolve(np.ones_like(data), kernel, mode="same")


def _curve(ax, steps, values, *, log, color, label, blocks=(), lw=1.5, ls="-", marker=None, ms=4, zorder=2):
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
        smooth = _smooth(v[m]) if m.sum() >= 15 else v[m]
        first = b == block_of[0]
        ax.plot(s[m], smooth, color=color, lw=lw, ls=ls, zorder=zorder, label=label if first else None)
    return True


def _mark_infs(ax, curves: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """Draw recorded non-finite values as red crosses clipped to the top of the axis."""
    steps = [s[~np.isfinite(v)] for s, v in curves]
    steps = np.concatenate(steps) if steps else np.zeros(0)
    if steps.size == 0:
        return False
    trans = ax.get_xaxis_transform()  # x in data units, y in axes units
    ax.plot(steps, np.full(steps.size, 0.97), ls="none", marker="x", ms=8, mew=2, color=INF_COLOR,
            transform=trans, clip_on=False, zorder=5, label="non-finite (inf/NaN)")
    return True


def _phase_blocks(history: History) -> list[tuple[str, float, float]]:
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


def _shade_phases(ax, blocks, *, label: bool) -> None:
    if len(blocks) < 2:
        return
    for i, (name, lo, hi) in enumerate(blocks):
        ax.axvspan(lo, hi, color=PHASE_COLORS[i % len(PHASE_COLORS)], zorder=0, lw=0)
        if i > 0:
            ax.axvline(lo, color="#7f8c8d", lw=1, ls="-", zorder=1)
        if label and name:
            ax.text(lo, 1.01, f" {name}", transform=ax.get_xaxis_transform(), ha="left", va="bottom",
                    fontsize=9, color="#34495e", fontweight="bold")


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


def _no_data(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=11, color="#7f8c8d")


# ---------------------------------------------------------------------------------------------- loss
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
    fig = _figure(10, 6.6 if has_lower else 4.8)
    if has_lower:
        ax, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.25))
    else:
        ax, ax2 = fig.subplots(1, 1), None
    fig.suptitle(title or "Training loss", fontsize=13, fontweight="bold")

    loss_cols = [c for c in ("loss",) if c in history] + [f"loss/{t}" for t in terms] + val_cols
    if not loss_cols:
        _no_data(ax, "no loss recorded")
        return _save(fig, path)
    log = "loss" not in history or _all_positive(history, ["loss"])
    if log:
        ax.set_yscale("log")
    else:  # linear within the smallest magnitudes the loss reaches, log beyond
        _, v = history.series("loss")
        mag = np.abs(v[np.isfinite(v) & (v != 0)])
        ax.set_yscale("symlog", linthresh=float(np.percentile(mag, 5)) if mag.size else 1.0)
    blocks = _phase_blocks(history)
    _shade_phases(ax, blocks, label=True)

    colors = {t: TERM_COLORS[i % len(TERM_COLORS)] for i, t in enumerate(terms)}
    curves = []
    smoothed = False
    if "loss" in history:
        s, v = history.series("loss")
        smoothed |= _curve(ax, s, v, log=log, color="#17202a", label="total loss", blocks=blocks, lw=2.0,
                           zorder=4)
        curves.append((s, v))
    for t in terms:
        s, v = history.series(f"loss/{t}")
        smoothed |= _curve(ax, s, v, log=log, color=colors[t], label=t, blocks=blocks, lw=1.0)
        curves.append((s, v))
    for c in val_cols:
        s, v = history.series(c)
        term = c[len("val/loss/"):] if c.startswith("val/loss/") else None
        color = colors.get(term, "#17202a") if term else "#17202a"
        label = f"val {term}" if term else "val loss"
        _curve(ax, s, v, log=log, color=color, label=label, lw=1.2, ls="--", marker="o", ms=4, zorder=4)
        curves.append((s, v))
    _mark_infs(ax, curves)
    _mark_findings(ax, history, findings)
    ax.set_ylabel("loss" + (" (log scale)" if log else " (symlog scale)"), fontsize=10)
    ax.grid(True, which="major", alpha=0.35)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8.5, frameon=False,
              title="faint: raw values\nsolid: smoothed" if smoothed else None, title_fontsize=8)
    if ax2 is None:
        ax.set_xlabel("optimizer step", fontsize=10)
    else:
        _lr_grad_panel(ax2, history, blocks)
    return _save(fig, path)


def _lr_grad_panel(ax, history: History, blocks) -> None:
    _shade_phases(ax, blocks, label=False)
    axes = [ax]
    if "lr" in history:
        s, v = history.series("lr")
        ok = np.isfinite(v) & (v > 0)
        ax.plot(s[ok], v[ok], color="#16a085", lw=1.5, label="learning rate")
        ax.set_yscale("log")
        ax.set_ylabel("learning rate", fontsize=10, color="#16a085")
    if "grad_norm" in history:
        gax = ax.twinx() if "lr" in history else ax
        if gax is not ax:
            axes.append(gax)
        s, v = history.series("grad_norm")
        gax.set_yscale("log")
        _curve(gax, s, v, log=True, color="#8e44ad", label="grad norm", blocks=blocks, lw=1.2)
        _mark_infs(gax, [(s, v)])
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
    fig = _figure(7.5, 4.5)
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
    return _save(fig, path)


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
    fig = _figure(8, 1.2 + 2.2 * len(names))
    axes = np.atleast_1d(fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0])
    fig.suptitle("Identified parameters", fontsize=12, fontweight="bold")
    blocks = _phase_blocks(history)
    for i, (ax, col) in enumerate(zip(axes, names, strict=True)):
        name = col.split("/", 1)[1]
        _shade_phases(ax, blocks, label=i == 0)
        s, v = history.series(col)
        ok = np.isfinite(v)
        ax.plot(s[ok], v[ok], color=TERM_COLORS[i % len(TERM_COLORS)], lw=1.8, label=f"{name} (estimate)")
        _mark_infs(ax, [(s, v)])
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
    return _save(fig, path)


# ---------------------------------------------------------------------------------------------- fields
def _check_field(x, y, name, arr) -> np.ndarray:
    arr = np.asarray(arr, dtype=float)
    if arr.shape != (y.size, x.size):
        raise ValueError(f"{name} has shape {arr.shape}; expected (len(y), len(x)) = ({y.size}, {x.size})")
    return arr


def plot_field_comparison(
    x: Sequence[float],
    y: Sequence[float],
    pred,
    ref,
    path: str | os.PathLike,
    *,
    xlabel: str = "x",
    ylabel: str = "y",
    title: str = "",
) -> Path:
    """Prediction, reference and |error| of a 2-D field on a grid; ``pred``/``ref`` are (len(y), len(x)).

    Prediction and reference share one colour scale so they can be compared by eye.
    """
    x = np.asarray(x, dtype=float).reshape(-1)
    y = np.asarray(y, dtype=float).reshape(-1)
    pred = _check_field(x, y, "pred", pred)
    ref = _check_field(x, y, "ref", ref)
    err = np.abs(pred - ref)
    rel_l2 = np.linalg.norm(pred - ref) / max(np.linalg.norm(ref), 1e-300)
    vmin = float(np.nanmin([pred.min(), ref.min()]))
    vmax = float(np.nanmax([pred.max(), ref.max()]))
    fig = _figure(13, 4.0)
    axes = fig.subplots(1, 3, sharey=True)
    if title:
        fig.suptitle(title, fontsize=12, fontweight="bold")
    panels = [
        (pred, "prediction", "viridis", vmin, vmax),
        (ref, "reference", "viridis", vmin, vmax),
        (err, f"|error|  (max {err.max():.2e}, rel. L2 {rel_l2:.2e})", "magma", 0.0, float(err.max())),
    ]
    meshes = []
    for ax, (arr, name, cmap, lo, hi) in zip(axes, panels, strict=True):
        meshes.append(ax.pcolormesh(x, y, arr, shading="auto", cmap=cmap, vmin=lo, vmax=hi, rasterized=True))
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(5))
    axes[0].set_ylabel(ylabel, fontsize=10)
    fig.get_layout_engine().set(wspace=0.04)
    fig.colorbar(meshes[0], ax=list(axes[:2]), shrink=0.9, pad=0.01)
    fig.colorbar(meshes[2], ax=axes[2], shrink=0.9, pad=0.01)
    return _save(fig, path)


def plot_slices(
    x: Sequence[float],
    y: Sequence[float],
    pred,
    ref,
    path: str | os.PathLike,
    *,
    at: Sequence[float] | None = None,
    n_slices: int = 3,
    xlabel: str = "x",
    cut_label: str = "t",
    value_label: str = "u",
    title: str | None = None,
) -> Path:
    """1-D cuts of a 2-D field at a few values of ``y`` (usually time): prediction vs reference.

    ``pred``/``ref`` are (len(y), len(x)); ``at`` lists the cut positions (nearest grid row is used),
    default ``n_slices`` evenly spaced rows from first to last.
    """
    x = np.asarray(x, dtype=float).reshape(-1)
    y = np.asarray(y, dtype=float).reshape(-1)
    pred = _check_field(x, y, "pred", pred)
    ref = _check_field(x, y, "ref", ref)
    if at is None:
        rows = np.unique(np.linspace(0, y.size - 1, max(1, n_slices)).round().astype(int))
    else:
        rows = np.array([int(np.argmin(np.abs(y - a))) for a in at])
    fig = _figure(min(4.0 * len(rows) + 1, 16), 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(rows), sharey=True, squeeze=False)[0])
    fig.suptitle(title or f"Prediction vs reference at fixed {cut_label}", fontsize=12, fontweight="bold")
    for ax, r in zip(axes, rows, strict=True):
        ax.plot(x, ref[r], color="#17202a", lw=2.2, label="reference")
        ax.plot(x, pred[r], color="#e67e22", lw=1.6, ls="--", label="prediction")
        ax.set_title(f"{cut_label} = {y[r]:.4g}", fontsize=10)
        ax.set_xlabel(xlabel, fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.grid(True, alpha=0.35)
    axes[0].set_ylabel(value_label, fontsize=10)
    axes[0].legend(fontsize=9, frameon=False)
    return _save(fig, path)


# ---------------------------------------------------------------------------------------------- supervised
def plot_pred_vs_true(
    y_true, y_pred, path: str | os.PathLike, *, title: str | None = None, max_points: int = 20000
) -> Path:
    """Predicted against true values (regression) with the y = x diagonal, RMSE and R^2.

    2-D inputs (n, outputs) with several outputs are drawn one colour per output. At most ``max_points``
    points per output are drawn (a fixed random subset); the metrics use all of them.
    """
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    t2 = y_true.reshape(y_true.shape[0], -1) if y_true.ndim > 1 else y_true[:, None]
    p2 = y_pred.reshape(t2.shape)
    fig = _figure(5.6, 5.2)
    ax = fig.subplots()
    rng = np.random.default_rng(0)
    for j in range(t2.shape[1]):
        idx = np.arange(t2.shape[0])
        if idx.size > max_points:
            idx = rng.choice(idx, max_points, replace=False)
        label = f"output {j}" if t2.shape[1] > 1 else "samples"
        ax.scatter(t2[idx, j], p2[idx, j], s=9, alpha=0.5, lw=0, label=label,
                   color=TERM_COLORS[j % len(TERM_COLORS)])
    finite = np.isfinite(t2) & np.isfinite(p2)
    lo = float(min(t2[finite].min(), p2[finite].min())) if finite.any() else 0.0
    hi = float(max(t2[finite].max(), p2[finite].max())) if finite.any() else 1.0
    ax.plot([lo, hi], [lo, hi], color="#17202a", ls="--", lw=1.2, label="y = x")
    resid = (p2 - t2)[finite]
    rmse = float(np.sqrt(np.mean(resid**2))) if resid.size else float("nan")
    var = float(np.var(t2[finite])) if resid.size else float("nan")
    r2 = 1.0 - float(np.mean(resid**2)) / var if var > 0 else float("nan")
    ax.text(0.03, 0.97, f"RMSE = {rmse:.3g}\n$R^2$ = {r2:.4f}\nn = {t2.size}", transform=ax.transAxes,
            va="top", fontsize=10, bbox={"boxstyle": "round", "fc": "white", "ec": "#bdc3c7"})
    ax.set_xlabel("true value", fontsize=10)
    ax.set_ylabel("predicted value", fontsize=10)
    ax.set_title(title or "Predicted vs true", fontsize=12, fontweight="bold")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(True, alpha=0.35)
    ax.legend(loc="lower right", fontsize=9, frameon=False)
    return _save(fig, path)


def plot_confusion(
    y_true, y_pred, classes: Sequence[str] | int, path: str | os.PathLike, *, title: str | None = None
) -> Path:
    """Confusion matrix of integer labels: colour is the row-normalised rate, cells show counts.

    ``classes`` is the list of class names (index = label) or the number of classes.
    """
    names = [str(i) for i in range(classes)] if isinstance(classes, int) else [str(c) for c in classes]
    k = len(names)
    y_true = np.asarray(y_true).astype(int).reshape(-1)
    y_pred = np.asarray(y_pred).astype(int).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and (labels.min() < 0 or labels.max() >= k):
            raise ValueError(f"{name} has labels outside 0..{k - 1} (the {k} classes given)")
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = min(3.5 + 0.45 * k, 12)
    fig = _figure(size + 1.2, size)
    ax = fig.subplots()
    im = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    if k <= 20:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=9 if k <= 10 else 7,
                        color="white" if rates[i, j] > 0.55 else "#17202a")
    tilt = k > 6 and max(len(n) for n in names) > 3  # long names would overlap
    ax.set_xticks(range(k), names, rotation=45 if tilt else 0, ha="right" if tilt else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class", fontsize=10)
    ax.set_ylabel("true class", fontsize=10)
    acc = float(np.trace(counts)) / max(int(counts.sum()), 1)
    ax.set_title(title or f"Confusion matrix (accuracy {acc:.2%})", fontsize=12, fontweight="bold")
    fig.colorbar(im, ax=ax, shrink=0.8, label="fraction of true class")
    return _save(fig, path)


# ---------------------------------------------------------------------------------------------- images
def plot_image_grid(
    rows_of_images: Sequence,
    path: str | os.PathLike,
    *,
    row_labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """A grid of images, one row per array (n, H, W) grayscale in [0, 1] (or (n, H, W, 3) RGB).

    E.g. ``[originals, reconstructions]`` with ``row_labels=["original", "reconstruction"]``.
    """
    rows = [np.asarray(r, dtype=float) for r in rows_of_images]
    if not rows:
        raise ValueError("rows_of_images is empty")
    for i, r in enumerate(rows):
        if r.ndim == 2:
            rows[i] = r = r[None]
        if r.ndim not in (3, 4) or (r.ndim == 4 and r.shape[-1] not in (1, 3)):
            raise ValueError(f"row {i} has shape {r.shape}; expected (n, H, W) or (n, H, W, 3)")
    if row_labels is not None and len(row_labels) != len(rows):
        raise ValueError(f"{len(row_labels)} row_labels for {len(rows)} rows")
    ncols = max(r.shape[0] for r in rows)
    cell = 1.15
    fig = _figure(0.6 + cell * ncols, (0.5 if title else 0.1) + cell * len(rows))
    axes = fig.subplots(len(rows), ncols, squeeze=False)
    if title:
        fig.suptitle(title, fontsize=12, fontweight="bold")
    for i, r in enumerate(rows):
        for j in range(ncols):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < r.shape[0]:
                img = np.clip(r[j], 0.0, 1.0)
                img = img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img
                cmap = "gray" if img.ndim == 2 else None
                ax.imshow(img, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        if row_labels is not None:
            axes[i, 0].set_ylabel(str(row_labels[i]), fontsize=10)
    return _save(fig, path)
