"""2-D toy distributions with seeded samplers and exact log-densities (nats): the one definition the flow,
diffusion and GAN families share.

Each toy is a generative process written in NumPy, so a second draw (another seed) is an independent reference
sample, and each has a density that follows from the same process:

* ``two_moons``: pick one of two half circles (radius 1, centres (0, 0) and (1, 0.5)) with probability 1/2,
  a point uniform in angle on it, plus N(0, 0.1^2 I) noise. The density is the arcs convolved with the noise:
  a 1-D integral over the angle, computed by fixed composite Gauss-Legendre quadrature (128 panels of 8 nodes
  on [0, pi], accurate far below 1e-6 relative for every point; see :func:`two_moons_log_prob`).
* ``rings``: pick one of four circles (radii 0.5, 1, 1.5, 2) with probability 1/4, an angle uniform in
  [0, 2 pi), a signed radius r_k + 0.08 e (e ~ N(0, 1)), and the point radius * (cos, sin). In Cartesian
  coordinates the density carries the polar Jacobian 1/r, and a negative signed radius lands on the opposite
  side, so p(x) = sum_k 1/4 [N(r; r_k, s^2) + N(-r; r_k, s^2)] / (2 pi r) with r = |x|: exact, no truncation.
* ``eight_gaussians``: N(c_k, 0.1^2 I) with c_k = 2 (cos k pi/4, sin k pi/4), k = 0..7, equal weights.
* ``checkerboard``: uniform on the 8 black squares (i + j even) of a 4 x 4 board of unit squares over
  [-2, 2]^2: density 1/8 there, 0 elsewhere (log-density -inf).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import logsumexp

TOYS: tuple[str, ...] = ("two_moons", "rings", "eight_gaussians", "checkerboard")
#: Toys whose exact log-density :func:`toy_log_prob` computes (all of them).
EXACT_DENSITY: tuple[str, ...] = TOYS

MOON_NOISE = 0.1
RING_RADII = (0.5, 1.0, 1.5, 2.0)
RING_NOISE = 0.08
GAUSS_NOISE = 0.1
GAUSS_RADIUS = 2.0

__all__ = ["EXACT_DENSITY", "TOYS", "sample_toy", "toy_log_prob", "toy_points"]


def _check_name(name: str) -> None:
    if name not in TOYS:
        raise ValueError(f"toy {name!r}: choose one of {', '.join(TOYS)}")


def sample_toy(name: str, n: int, seed: int) -> np.ndarray:
    """``n`` points ``(n, 2)`` of the toy ``name`` (see the module docstring), seeded by ``seed``."""
    _check_name(name)
    rng = np.random.default_rng(seed)
    if name == "two_moons":
        k = rng.integers(0, 2, n)
        a = rng.uniform(0.0, np.pi, n)
        x = np.where(k == 0, np.cos(a), 1.0 - np.cos(a))
        y = np.where(k == 0, np.sin(a), 0.5 - np.sin(a))
        return np.stack([x, y], 1) + rng.normal(0.0, MOON_NOISE, (n, 2))
    if name == "eight_gaussians":
        ang = rng.integers(0, 8, n) * (np.pi / 4)
        centres = GAUSS_RADIUS * np.stack([np.cos(ang), np.sin(ang)], 1)
        return centres + rng.normal(0.0, GAUSS_NOISE, (n, 2))
    if name == "checkerboard":
        i, j = rng.integers(0, 4, n), rng.integers(0, 2, n)
        j = 2 * j + (i % 2)  # black squares: i + j even on a 4x4 board
        u = rng.uniform(0.0, 1.0, (n, 2))
        return np.stack([i + u[:, 0], j + u[:, 1]], 1) - 2.0
    k = rng.integers(0, len(RING_RADII), n)  # rings
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    rho = np.asarray(RING_RADII)[k] + RING_NOISE * rng.normal(0.0, 1.0, n)
    return np.stack([rho * np.cos(theta), rho * np.sin(theta)], 1)


#: The diffusion family's name for :func:`sample_toy`.
toy_points = sample_toy


def toy_log_prob(name: str, x) -> np.ndarray:
    """Exact log-density (nats) of the toy ``name`` at points ``x`` ``(n, 2)``; ``(n,)`` float64.

    Points outside the support (checkerboard's white squares and outside the board) get ``-inf``.
    """
    _check_name(name)
    x = np.asarray(x, np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"toy_log_prob({name!r}): points must have shape (n, 2); got {x.shape}")
    return {"two_moons": two_moons_log_prob, "rings": _rings_log_prob, "eight_gaussians": _gaussians_log_prob,
            "checkerboard": _checkerboard_log_prob}[name](x)


def _log_normal2(sq: np.ndarray, s: float) -> np.ndarray:
    """log N(d; 0, s^2 I) in 2-D from the squared distance ``sq``."""
    return -sq / (2 * s * s) - np.log(2 * np.pi * s * s)


def _gaussians_log_prob(x: np.ndarray) -> np.ndarray:
    ang = np.arange(8) * (np.pi / 4)
    c = GAUSS_RADIUS * np.stack([np.cos(ang), np.sin(ang)], 1)  # (8, 2)
    sq = ((x[:, None, :] - c[None]) ** 2).sum(-1)  # (n, 8)
    return logsumexp(_log_normal2(sq, GAUSS_NOISE), axis=1) - np.log(8.0)


def _checkerboard_log_prob(x: np.ndarray) -> np.ndarray:
    i, j = np.floor(x[:, 0] + 2.0), np.floor(x[:, 1] + 2.0)
    inside = (i >= 0) & (i <= 3) & (j >= 0) & (j <= 3) & ((i + j) % 2 == 0)
    return np.where(inside, -np.log(8.0), -np.inf)


def _rings_log_prob(x: np.ndarray) -> np.ndarray:
    r = np.maximum(np.hypot(x[:, 0], x[:, 1]), 1e-300)[:, None]  # (n, 1); the density is infinite at r = 0
    rk, s = np.asarray(RING_RADII)[None], RING_NOISE
    log_phi = np.concatenate([-0.5 * ((r - rk) / s) ** 2, -0.5 * ((r + rk) / s) ** 2], 1)  # (n, 2K)
    log_radial = logsumexp(log_phi, axis=1) - np.log(s * np.sqrt(2 * np.pi)) - np.log(len(RING_RADII))
    return log_radial - np.log(2 * np.pi * r[:, 0])


@lru_cache(maxsize=1)
def _arc_nodes(panels: int = 128, order: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and log-weights on [0, pi] (the weights of the angle's density 1/pi)."""
    t, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(0.0, np.pi, panels + 1)
    half = np.diff(edges)[:, None] / 2
    nodes = (edges[:-1, None] + half * (t[None] + 1)).ravel()
    weights = (half * w[None]).ravel() / np.pi
    return nodes, np.log(weights)


def two_moons_log_prob(x: np.ndarray, *, chunk: int = 4096) -> np.ndarray:
    """log p(x) of the two moons: 1/2 sum over moons of the integral over a in [0, pi] of (1/pi) N(x; m(a), s^2 I).

    The integrand is smooth in a with a width of at least about s / sqrt(2) (points at most a few s from the
    arcs matter); 128 Gauss-Legendre panels of 8 nodes (panel width 0.025) resolve it to rounding error.
    """
    a, log_w = _arc_nodes()
    moons = [np.stack([np.cos(a), np.sin(a)], 1), np.stack([1.0 - np.cos(a), 0.5 - np.sin(a)], 1)]  # (m, 2) each
    out = np.empty(len(x))
    for lo in range(0, len(x), chunk):
        xb = x[lo:lo + chunk]
        terms = [log_w[None] + _log_normal2(((xb[:, None, :] - m[None]) ** 2).sum(-1), MOON_NOISE) for m in moons]
        out[lo:lo + chunk] = logsumexp(np.concatenate(terms, 1), axis=1) - np.log(2.0)
    return out
