"""The Fréchet distance between Gaussians fitted to two feature sets (FID-style, Heusel et al. 2017).

``FD = |mu_1 - mu_2|^2 + tr(S_1) + tr(S_2) - 2 tr((S_1^{1/2} S_2 S_1^{1/2})^{1/2})``

the squared 2-Wasserstein distance between N(mu_1, S_1) and N(mu_2, S_2) (Dowson & Landau 1982). The trace
term is often written ``tr((S_1 S_2)^{1/2})`` and computed with ``scipy.linalg.sqrtm`` of the non-symmetric
product, which returns small spurious imaginary parts that must be dropped. Here it is computed from two
symmetric eigen-decompositions instead: ``S_1^{1/2}`` from ``eigh(S_1)``, then the eigenvalues of the symmetric
PSD matrix ``S_1^{1/2} S_2 S_1^{1/2}`` (which equal those of ``S_1 S_2``), clipped at 0 against rounding, so
the result is real by construction and exact for singular covariances (fewer samples than dimensions).

The value depends on N (the sample covariance is biased): compare distances computed at the same N, as the
real-vs-real reference of :func:`~pinngen.generative.sample_metrics.evaluate_samples` does.
"""

from __future__ import annotations

import numpy as np

__all__ = ["frechet_distance", "frechet_distance_features", "gaussian_stats"]


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and covariance ``(d, d)`` (unbiased, ``ddof=1``) of ``features`` ``(n, d)``, float64."""
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features of shape {f.shape}; a covariance needs (n, d) with n >= 2")
    if not np.all(np.isfinite(f)):
        raise ValueError("features contain NaN or inf")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (means ``(d,)``, covariances ``(d, d)``)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"means {mu1.shape}, {mu2.shape} and covariances {s1.shape}, {s2.shape}: expected (d,) "
                         "and (d, d) with the same d")
    s1, s2 = 0.5 * (s1 + s1.T), 0.5 * (s2 + s2.T)
    root1 = _psd_sqrt(s1)
    middle = root1 @ s2 @ root1
    eig = np.linalg.eigvalsh(0.5 * (middle + middle.T))
    trace_sqrt = float(np.sum(np.sqrt(np.clip(eig, 0.0, None))))
    diff = mu1 - mu2
    fd = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt)
    return max(fd, 0.0)  # rounding can leave -1e-12 for identical inputs


def frechet_distance_features(a, b) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``a`` ``(n, d)`` and ``b`` ``(m, d)``."""
    fa, fb = np.asarray(a), np.asarray(b)
    if fa.ndim == 2 and fb.ndim == 2 and fa.shape[1] != fb.shape[1]:
        raise ValueError(f"features have {fa.shape[1]} and {fb.shape[1]} dimensions; use the same extractor")
    return frechet_distance(*gaussian_stats(fa), *gaussian_stats(fb))
