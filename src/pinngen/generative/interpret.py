"""Looking inside trained image networks: latent traversals, latent PCA, and the figures (attribution maps,
traversals, PCA scatter).

* :func:`latent_traversal`: vary one latent coordinate at a time and decode; generic over ``decode``
  (autoencoder, VAE, ...).
* :func:`traversal_from_codes`, :func:`latent_pca`: where to traverse, and a 2-D view of the codes.
* :func:`plot_attributions`: images and their attribution maps from :mod:`pinngen.core.saliency`
  (saliency, integrated gradients).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import jax.numpy as jnp
import numpy as np

__all__ = ["latent_pca", "latent_traversal", "plot_attributions", "plot_latent_pca", "plot_latent_traversal",
           "traversal_from_codes"]


# --------------------------------------------------------------------------- latent space


def traversal_from_codes(codes, *, k: int = 8) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """A centre, a scale and the dims worth traversing, from codes ``(n, latent)`` of real data.

    Returns ``(mean (latent,), std (latent,), dims)``: the ``k`` coordinates with the largest spread, in
    decreasing order. An autoencoder's latent units have arbitrary scales, so a traversal in units of each
    coordinate's standard deviation stays where the decoder has seen data.
    """
    codes = np.asarray(codes, np.float64)
    if codes.ndim != 2 or len(codes) < 2:
        raise ValueError(f"codes have shape {codes.shape}; need (n >= 2, latent)")
    std = codes.std(axis=0)
    dims = [int(d) for d in np.argsort(-std, kind="stable")[: min(k, codes.shape[1])]]
    return codes.mean(axis=0), std, dims


def latent_traversal(decode: Callable, z0, *, dims: Sequence[int] | None = None,
                     values: Sequence[float] = (-2.0, -1.0, 0.0, 1.0, 2.0), scale=1.0) -> np.ndarray:
    """Decoded images with one latent coordinate varied at a time.

    Args:
        decode: ``(m, latent) -> (m, ...)`` images (an autoencoder's or a VAE's ``decode``).
        z0: the code ``(latent,)`` to start from (the mean code of data; zeros for a VAE's prior mean).
        dims: the coordinates to vary (default: all).
        values: offsets added to ``z0[d]``, in units of ``scale``.
        scale: a number or ``(latent,)`` per-coordinate scales (e.g. the codes' standard deviations).

    Returns:
        ``(len(dims), len(values), ...)``: row ``i`` varies coordinate ``dims[i]``.
    """
    z0 = np.asarray(z0, np.float64).reshape(-1)
    latent = z0.shape[0]
    dims = list(range(latent)) if dims is None else [int(d) for d in dims]
    if any(d < 0 or d >= latent for d in dims):
        raise ValueError(f"dims={dims} out of range for a latent of size {latent}")
    values = np.asarray(values, np.float64).reshape(-1)
    scale = np.broadcast_to(np.asarray(scale, np.float64), (latent,))
    z = np.tile(z0, (len(dims), len(values), 1))  # (rows, cols, latent)
    for i, d in enumerate(dims):
        z[i, :, d] = z0[d] + values * scale[d]
    images = np.asarray(decode(jnp.asarray(z.reshape(-1, latent), jnp.float32)))
    return images.reshape(len(dims), len(values), *images.shape[1:])


def latent_pca(codes, n_components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Project codes ``(n, latent)`` onto their first principal components.

    Returns ``(projections (n, n_components), explained variance ratio (n_components,))``.
    """
    codes = np.asarray(codes, np.float64)
    if codes.ndim != 2 or len(codes) < 2:
        raise ValueError(f"codes have shape {codes.shape}; need (n >= 2, latent)")
    centred = codes - codes.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(n_components, vt.shape[0])
    var = s**2
    ratio = var[:k] / max(float(var.sum()), 1e-300)
    return centred @ vt[:k].T, ratio


# --------------------------------------------------------------------------- figures


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path) -> Path:
    import io

    from pinngen.core.io import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, facecolor="white")
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def _blank(ax):
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _gray(img) -> np.ndarray:
    img = np.asarray(img, np.float64)
    return img[0] if img.ndim == 3 and img.shape[0] == 1 else img


def plot_attributions(images, maps, path: str | os.PathLike, *, signed: bool = False,
                      title: str | None = None, labels: Sequence[str] | None = None) -> Path:
    """Images (top row) and their attribution maps (bottom row); ``images``/``maps`` ``(n, H, W)``.

    ``signed``: a red (positive) / blue (negative) map symmetric about zero, for integrated gradients;
    otherwise magnitudes from white to dark red, for saliency. Each map has its own colour scale.
    """
    images, maps = np.asarray(images), np.asarray(maps)
    if images.shape[0] != maps.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {maps.shape[0]} maps")
    n = images.shape[0]
    fig = _figure(0.6 + 1.2 * n, 2.7 + (0.3 if title else 0.0))
    axes = fig.subplots(2, n, squeeze=False)
    if title:
        fig.suptitle(title, fontsize=12, fontweight="bold")
    for j in range(n):
        axes[0, j].imshow(_gray(images[j]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        m = _gray(maps[j])
        lim = float(np.max(np.abs(m))) or 1.0
        if signed:
            axes[1, j].imshow(m, cmap="bwr", vmin=-lim, vmax=lim, interpolation="nearest")
        else:
            axes[1, j].imshow(np.abs(m), cmap="Reds", vmin=0, vmax=lim, interpolation="nearest")
        if labels is not None:
            axes[0, j].set_title(str(labels[j]), fontsize=8)
        _blank(axes[0, j])
        _blank(axes[1, j])
    axes[0, 0].set_ylabel("input", fontsize=10)
    axes[1, 0].set_ylabel("attribution" if signed else "saliency", fontsize=10)
    return _save(fig, path)


def plot_latent_traversal(grid, path: str | os.PathLike, *, dims: Sequence[int],
                          values: Sequence[float], title: str | None = None) -> Path:
    """The output of :func:`latent_traversal` ``(rows, cols, H, W)``: a row per coordinate ``z_d``."""
    from pinngen.report.plots import plot_image_grid

    grid = np.asarray(grid)
    rows = [grid[i] for i in range(grid.shape[0])]
    span = f"offsets {', '.join(f'{v:+g}' for v in values)} (x scale)"
    return plot_image_grid(rows, path, row_labels=[f"z{d}" for d in dims],
                           title=f"{title} - {span}" if title else span)


def plot_latent_pca(codes, labels, path: str | os.PathLike, *, classes: Sequence[str] | None = None,
                    title: str | None = None, max_points: int = 3000, seed: int = 0) -> Path:
    """Codes ``(n, latent)`` projected on their first two principal components, coloured by class."""
    proj, ratio = latent_pca(codes, 2)
    labels = np.asarray(labels).astype(int)
    if len(proj) > max_points:
        keep = np.random.default_rng(seed).choice(len(proj), max_points, replace=False)
        proj, labels = proj[keep], labels[keep]
    if proj.shape[1] == 1:
        proj = np.concatenate([proj, np.zeros_like(proj)], axis=1)
        ratio = np.append(ratio, 0.0)
    fig = _figure(7.2, 5.4)
    ax = fig.subplots()
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    for c in np.unique(labels):
        sel = labels == c
        name = classes[c] if classes is not None and c < len(classes) else str(c)
        ax.scatter(proj[sel, 0], proj[sel, 1], s=5, alpha=0.6, color=cmap(int(c) % 10), label=name)
    ax.set_xlabel(f"PC 1 ({100 * ratio[0]:.1f}% of variance)")
    ax.set_ylabel(f"PC 2 ({100 * ratio[1]:.1f}% of variance)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, markerscale=3)
    ax.set_title(title or "Latent space, first two principal components", fontsize=11)
    ax.grid(True, alpha=0.3)
    return _save(fig, path)
