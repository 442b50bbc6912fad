"""Point sets in the unit cube and the loops that turn them into points of a domain.

Every sampler in the geometry package reduces to "draw u in [0, 1)^m, map it"; when no
measure-preserving map exists, candidates are drawn from a larger set and filtered (rejection).
Sobol and Latin hypercube sets come from `scipy.stats.qmc` (scrambled, seeded from the caller's
`numpy.random.Generator`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import qmc

METHODS = ("uniform", "sobol", "lhs", "grid")

# Rejection stops after this many rounds; each round at least doubles the batch when nothing is accepted.
_MAX_ROUNDS = 24


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not supported; choose one of {METHODS}")
    return method


def check_count(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{name}={n!r} must be a positive integer")
    return int(n)


def resolve_rng(rng: np.random.Generator | int | None, method: str) -> np.random.Generator | None:
    """A Generator from a Generator or an integer seed; None is allowed only for method='grid'."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    if rng is None and method == "grid":
        return None
    raise ValueError(
        f"rng={rng!r} is not usable for method={method!r}: pass a numpy.random.Generator or an integer seed"
    )


class UnitStream:
    """Consecutive batches of points in [0, 1)^m: one Sobol sequence is continued across batches,
    so the accepted points of a rejection loop keep its low discrepancy."""

    def __init__(self, m: int, method: str, rng: np.random.Generator):
        self.m, self.method, self.rng = m, method, rng
        self._sobol = qmc.Sobol(m, scramble=True, rng=rng) if method == "sobol" and m > 0 else None

    def draw(self, k: int) -> np.ndarray:
        if self.m == 0:
            return np.zeros((k, 0))
        if self.method == "uniform":
            return self.rng.random((k, self.m))
        if self.method == "sobol":
            with warnings.catch_warnings():
                # Balance needs powers of two; callers need exact sizes, so the warning is noise here.
                warnings.filterwarnings("ignore", message=".*balance properties.*")
                return self._sobol.random(k)
        if self.method == "lhs":
            return qmc.LatinHypercube(self.m, rng=self.rng).random(k)
        raise ValueError(f"method={self.method!r} has no stream; choose one of {METHODS[:3]}")


def lattice(m: int, lo: np.ndarray, hi: np.ndarray, *, vertices: bool = False) -> np.ndarray:
    """A regular lattice over the box [lo, hi] with at least m points, spacing as equal as the sides allow.

    vertices=False gives cell centres (no point on the box boundary); True gives linspace vertices.
    Returns (count, len(lo)).
    """
    sides = hi - lo
    d = len(sides)
    if d == 0:
        return np.zeros((m, 0))
    h = (np.prod(sides) / m) ** (1.0 / d)
    counts = [max(1, math.ceil(s / h)) for s in sides]
    while math.prod(counts) < m:  # rounding can fall short by a little
        counts[int(np.argmax(sides / np.array(counts)))] += 1
    if vertices:
        axes = [np.linspace(a, b, max(c, 2)) for a, b, c in zip(lo, hi, counts, strict=True)]
    else:
        axes = [a + (np.arange(c) + 0.5) * (b - a) / c for a, b, c in zip(lo, hi, counts, strict=True)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([g.reshape(-1) for g in mesh], axis=1)


def thin(points: np.ndarray, n: int) -> np.ndarray:
    """n rows spread evenly over the rows of points (deterministic; keeps a lattice roughly even)."""
    if len(points) == n:
        return points
    idx = np.round(np.linspace(0, len(points) - 1, n)).astype(int)
    return points[idx]


def unit_sample(n: int, m: int, method: str, rng: np.random.Generator | None,
                sides: Sequence[float] | None = None) -> np.ndarray:
    """Exactly n points in [0, 1]^m, shape (n, m); `sides` shapes the grid cells (physical lengths)."""
    if m == 0:
        return np.zeros((n, 0))
    if method == "grid":
        s = np.ones(m) if sides is None else np.asarray(sides, dtype=float)
        pts = lattice(n, np.zeros(m), s)
        return thin(pts, n) / s
    return UnitStream(m, method, rng).draw(n)


def fill(n: int, draw: Callable[[int], np.ndarray], accept: Callable[[np.ndarray], np.ndarray],
         what: str) -> np.ndarray:
    """Rejection: draw candidate batches until n are accepted; keeps the first n in draw order."""
    kept, n_kept, n_drawn, batch = [], 0, 0, max(64, 2 * n)
    for _ in range(_MAX_ROUNDS):
        cand = draw(batch)
        ok = accept(cand)
        kept.append(cand[ok])
        n_kept += int(ok.sum())
        n_drawn += batch
        if n_kept >= n:
            return np.concatenate(kept)[:n]
        rate = n_kept / n_drawn
        batch = 2 * batch if rate == 0 else min(int(1.2 * (n - n_kept) / rate) + 64, 4 * batch)
    raise ValueError(
        f"could not draw {n} points on {what}: {n_kept} accepted of {n_drawn} candidates "
        "(is this part empty, or much smaller than its bounding set?)"
    )


def fill_grid(n: int, make: Callable[[int], np.ndarray], accept: Callable[[np.ndarray], np.ndarray],
              what: str) -> np.ndarray:
    """Grid analogue of `fill`: refine a candidate lattice until at least n survive, then thin to n."""
    m = n
    for _ in range(_MAX_ROUNDS):
        cand = make(m)
        ok = accept(cand)
        k = int(ok.sum())
        if k >= n:
            return thin(cand[ok], n)
        m = 4 * m if k == 0 else math.ceil(1.2 * m * n / k) + 1
    raise ValueError(f"could not place {n} grid points on {what}")


def allocate(n: int, weights: Sequence[float]) -> list[int]:
    """Split n into integer counts proportional to weights (largest remainder; sums to n exactly)."""
    w = np.asarray(weights, dtype=float)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"cannot split {n} points over parts with measures {w.tolist()}")
    q = n * w / w.sum()
    counts = np.floor(q).astype(int)
    order = np.argsort(-(q - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts.tolist()
