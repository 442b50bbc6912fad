"""Figures of a 2-D field on a grid (usually space by time): prediction, reference and error side by side,
and 1-D cuts at a few fixed values of the second coordinate."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from pinngen.report.draw import new_figure, save_png


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
    fig = new_figure(13, 4.0)
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
    return save_png(fig, path)


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
    fig = new_figure(min(4.0 * len(rows) + 1, 16), 3.6)
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
    return save_png(fig, path)
