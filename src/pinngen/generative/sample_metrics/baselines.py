"""Baseline "generators" that calibrate the metrics: Gaussians fitted to the pixels, and uniform noise.

A generative model that does not beat :func:`per_class_gaussian_samples` (one Gaussian per class with the
class's full pixel covariance, sampled in the data's class proportions) has learned nothing a few lines of
linear algebra could not; the issue's target is to beat it. :func:`pixel_gaussian_samples` (one Gaussian for
all the data) and :func:`uniform_noise_samples` mark the bottom of the scale.

All return images ``(n, *image_shape)`` float32 clipped to [0, 1], from a NumPy generator seeded by ``seed``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["largest_remainder", "per_class_gaussian_samples", "pixel_gaussian_samples", "uniform_noise_samples"]

Covariance = Literal["full", "diagonal"]


def largest_remainder(shares, n: int) -> np.ndarray:
    """Whole counts ``(k,)`` summing to ``n`` in the proportions ``shares`` (Hamilton's method)."""
    p = np.asarray(shares, np.float64)
    p = p / p.sum()
    raw = p * n
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def _flat_images(images) -> tuple[np.ndarray, tuple[int, ...]]:
    x = np.asarray(images, np.float64)
    if x.ndim < 2 or len(x) < 1:
        raise ValueError(f"images of shape {x.shape}; expected (n, H, W) with n >= 1")
    return x.reshape(len(x), -1), x.shape[1:]


def _gaussian_draw(x: np.ndarray, n: int, rng: np.random.Generator, covariance: Covariance) -> np.ndarray:
    """``n`` draws ``(n, d)`` from N(mean(x), cov(x)) (``ddof=1``; 0 with one row)."""
    mu = x.mean(axis=0)
    centred = x - mu
    dof = max(len(x) - 1, 1)
    z = rng.standard_normal((n, x.shape[1]))
    if covariance == "diagonal":
        return mu + z * np.sqrt(np.sum(centred**2, axis=0) / dof)
    # cov = V diag(w) V^T; a draw is mu + V (sqrt(w) * z). eigh tolerates the singular covariances of pixels
    # that never change (image borders); tiny negative eigenvalues from rounding are clipped.
    w, v = np.linalg.eigh(centred.T @ centred / dof)
    return mu + (z * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _check(n: int, covariance: str) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n={n!r}: must be a positive integer")
    if covariance not in ("full", "diagonal"):
        raise ValueError(f"covariance={covariance!r}; choose 'full' or 'diagonal'")


def per_class_gaussian_samples(images, labels, n: int, seed: int = 0, *, covariance: Covariance = "full",
                               return_labels: bool = False):
    """``n`` images from one Gaussian per class fitted to that class's pixels, in the data's class proportions.

    Args:
        images: ``(m, H, W)`` (any image shape) pixels in [0, 1]; labels ``(m,)`` ints.
        n: samples to draw; class counts are the data's class shares times ``n``, rounded to sum to ``n``.
        covariance: ``"full"`` (each class's pixel covariance; the stronger baseline and the default) or
            ``"diagonal"`` (independent pixels).
        return_labels: also return the class of each sample.

    Returns:
        ``(n, H, W)`` float32 in [0, 1] in a shuffled order (and ``(n,)`` labels with ``return_labels``).
    """
    _check(n, covariance)
    x, shape = _flat_images(images)
    y = np.asarray(labels).astype(np.int64).ravel()
    if y.shape != (len(x),):
        raise ValueError(f"labels {np.shape(labels)}: expected one label per image ({len(x)})")
    rng = np.random.default_rng(seed)
    classes, freq = np.unique(y, return_counts=True)
    counts = largest_remainder(freq, n)
    parts = [_gaussian_draw(x[y == c], m, rng, covariance) for c, m in zip(classes, counts, strict=True) if m]
    out = np.clip(np.concatenate(parts), 0.0, 1.0).astype(np.float32).reshape(n, *shape)
    lab = np.repeat(classes, counts)
    order = rng.permutation(n)
    return (out[order], lab[order]) if return_labels else out[order]


def pixel_gaussian_samples(images, n: int, seed: int = 0, *, covariance: Covariance = "full") -> np.ndarray:
    """``n`` images ``(n, H, W)`` from one Gaussian fitted to all the pixels (no classes), clipped to [0, 1]."""
    _check(n, covariance)
    x, shape = _flat_images(images)
    draw = _gaussian_draw(x, n, np.random.default_rng(seed), covariance)
    return np.clip(draw, 0.0, 1.0).astype(np.float32).reshape(n, *shape)


def uniform_noise_samples(image_shape, n: int, seed: int = 0) -> np.ndarray:
    """``n`` images of independent uniform [0, 1] pixels, ``(n, *image_shape)`` float32."""
    _check(n, "full")
    return np.random.default_rng(seed).uniform(0.0, 1.0, (n, *tuple(image_shape))).astype(np.float32)
