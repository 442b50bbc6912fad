"""Figures of predictions against data: predicted vs true values (regression), the confusion matrix
(classification) and grids of images (e.g. originals above reconstructions or samples)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pinngen.report.draw import TERM_COLORS, new_figure, save_png


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
    fig = new_figure(5.6, 5.2)
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
    return save_png(fig, path)


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
    fig = new_figure(size + 1.2, size)
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
    return save_png(fig, path)


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
    fig = new_figure(0.6 + cell * ncols, (0.5 if title else 0.1) + cell * len(rows))
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
    return save_png(fig, path)
