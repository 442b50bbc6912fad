"""Two-sample tests: do generated points come from the same distribution as held-out data?

:func:`energy_test` is the energy-distance test of Székely & Rizzo (2004, 2013): the statistic

    E = 2 E|X - Y| - E|X - X'| - E|Y - Y'|   (>= 0, zero only when the distributions agree)

computed with the unbiased (U-statistic) within-sample means, and a permutation p-value: the pooled points
are relabelled at random ``permutations`` times and the p-value is the share of relabellings whose statistic
is at least the observed one (with the +1 correction of Phipson & Smyth 2010, so it is never 0).
:func:`mmd_test` does the same with a Gaussian-kernel MMD^2 (Gretton et al. 2012), bandwidth by the median
heuristic on the pooled points.
"""

from __future__ import annotations

import numpy as np

__all__ = ["energy_test", "mmd_test"]


def _pairwise(z: np.ndarray) -> np.ndarray:
    sq = np.sum(z * z, 1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * z @ z.T, 0.0)
    return d2


def _check(x, y, max_points: int, rng) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"samples have {x.shape[1]} features and the reference {y.shape[1]}; they must match")
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"{len(x)} and {len(y)} points: a two-sample test needs at least 2 of each")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("the samples contain NaN or inf")
    if len(x) > max_points:
        x = x[rng.choice(len(x), max_points, replace=False)]
    if len(y) > max_points:
        y = y[rng.choice(len(y), max_points, replace=False)]
    return x, y


def _stat(k: np.ndarray, idx: np.ndarray, n: int) -> float:
    """Unbiased two-sample statistic from a pooled matrix ``k`` of a (negated distance or kernel) similarity."""
    a, b = idx[:n], idx[n:]
    kxx, kyy, kxy = k[np.ix_(a, a)], k[np.ix_(b, b)], k[np.ix_(a, b)]
    m = len(b)
    return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2.0 * kxy.mean())


def _test(k: np.ndarray, n: int, permutations: int, rng) -> tuple[float, float]:
    idx = np.arange(len(k))
    observed = _stat(k, idx, n)
    count = sum(_stat(k, rng.permutation(len(k)), n) >= observed for _ in range(permutations))
    return float(observed), float((1 + count) / (1 + permutations))


def energy_test(x, y, *, permutations: int = 200, max_points: int = 1500, seed: int = 0) -> dict:
    """Energy-distance two-sample test of samples ``x`` against reference ``y`` (each ``(n, d)``).

    Returns ``{"statistic", "p_value", "n_x", "n_y", "permutations"}``; a small p-value (e.g. < 0.01) says the
    two differ. At most ``max_points`` of each are used (a seeded subset), since the cost is quadratic.
    """
    rng = np.random.default_rng(seed)
    x, y = _check(x, y, max_points, rng)
    k = -np.sqrt(_pairwise(np.concatenate([x, y])))  # energy distance = MMD with the kernel -|z - z'|
    stat, p = _test(k, len(x), permutations, rng)
    return {"statistic": stat, "p_value": p, "n_x": len(x), "n_y": len(y), "permutations": permutations}


def mmd_test(x, y, *, permutations: int = 200, max_points: int = 1500, seed: int = 0,
             bandwidth: float | None = None) -> dict:
    """Gaussian-kernel MMD^2 two-sample test (unbiased statistic, permutation p-value); see :func:`energy_test`.

    ``bandwidth`` defaults to the median distance between pooled points.
    """
    rng = np.random.default_rng(seed)
    x, y = _check(x, y, max_points, rng)
    d2 = _pairwise(np.concatenate([x, y]))
    if bandwidth is None:
        off = d2[np.triu_indices(len(d2), 1)]
        bandwidth = float(np.sqrt(np.median(off))) or 1.0
    k = np.exp(-d2 / (2.0 * bandwidth**2))
    stat, p = _test(k, len(x), permutations, rng)
    return {"statistic": stat, "p_value": p, "n_x": len(x), "n_y": len(y), "permutations": permutations,
            "bandwidth": bandwidth}
