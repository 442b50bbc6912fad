"""Closed-form solutions of linear and simple nonlinear PDE benchmarks, vectorised NumPy.

Every function takes coordinate arrays that broadcast against each other (points ``(n,)`` each, or grids
such as ``x[None, :]`` and ``t[:, None]``) and returns arrays of their broadcast shape. Keyword arguments
are the PDE parameters; each docstring states the equation, the domain and the boundary data implied.
"""

from __future__ import annotations

import numpy as np


def _arrays(*coords) -> list[np.ndarray]:
    return [np.asarray(c, dtype=float) for c in coords]


# --- heat: u_t = k u_xx on [0, 1], u(0, t) = u(1, t) = 0 ------------------------------------------------

HEAT_MODES = ((1, 1.0), (4, 0.5))  # (wavenumber n, amplitude) of each sine mode


def heat_1d(x, t, *, k: float = 0.1) -> np.ndarray:
    """``u = sum_n a_n exp(-k (n pi)^2 t) sin(n pi x)``, modes ``HEAT_MODES``: n=1 (a=1), n=4 (a=0.5).

    Solves ``u_t = k u_xx`` on ``x in [0, 1]``, ``t >= 0``, ``u(0, t) = u(1, t) = 0``; the initial data is
    ``heat_1d(x, 0)``. Shape: broadcast of ``x`` and ``t``.
    """
    x, t = _arrays(x, t)
    return sum(a * np.exp(-k * (n * np.pi) ** 2 * t) * np.sin(n * np.pi * x) for n, a in HEAT_MODES)


# --- Poisson: -(u_xx + u_yy) = f on [0, 1]^2, u = 0 on the boundary --------------------------------------


def poisson_2d(x, y) -> np.ndarray:
    """Manufactured solution ``u = sin(pi x) sin(pi y) exp(x y)`` on ``[0, 1]^2`` (zero on the boundary)."""
    x, y = _arrays(x, y)
    return np.sin(np.pi * x) * np.sin(np.pi * y) * np.exp(x * y)


def poisson_2d_source(x, y) -> np.ndarray:
    """``f = -lap(u)`` for ``poisson_2d``.

    With ``s = sin(pi x) sin(pi y)`` and ``g = exp(x y)``: ``lap(s g) = g lap(s) + 2 grad(s).grad(g) +
    s lap(g)``, ``lap(s) = -2 pi^2 s``, ``grad(g) = (y, x) g``, ``lap(g) = (x^2 + y^2) g``, so
    ``f = g [(2 pi^2 - x^2 - y^2) s - 2 pi (y cos(pi x) sin(pi y) + x sin(pi x) cos(pi y))]``.
    """
    x, y = _arrays(x, y)
    s = np.sin(np.pi * x) * np.sin(np.pi * y)
    cross = y * np.cos(np.pi * x) * np.sin(np.pi * y) + x * np.sin(np.pi * x) * np.cos(np.pi * y)
    return np.exp(x * y) * ((2.0 * np.pi**2 - x**2 - y**2) * s - 2.0 * np.pi * cross)


# --- wave: u_tt = c^2 u_xx on [0, 1], u(0, t) = u(1, t) = 0, u_t(x, 0) = 0 ---------------------------------


def wave_1d(x, t, *, c: float = 1.0) -> np.ndarray:
    """Standing waves ``u = sin(pi x) cos(c pi t) + 0.5 sin(4 pi x) cos(4 c pi t)``.

    Solves ``u_tt = c^2 u_xx`` on ``x in [0, 1]``, ``t in [0, 1]``, with ``u = 0`` at both ends,
    ``u(x, 0) = sin(pi x) + 0.5 sin(4 pi x)`` and ``u_t(x, 0) = 0``. Shape: broadcast of ``x`` and ``t``.
    """
    x, t = _arrays(x, t)
    return np.sin(np.pi * x) * np.cos(c * np.pi * t) + 0.5 * np.sin(4 * np.pi * x) * np.cos(4 * c * np.pi * t)


# --- Helmholtz: u_xx + u_yy + k^2 u = q on [-1, 1]^2 ----------------------------------------------------


def helmholtz_2d(x, y, *, a1: float = 1.0, a2: float = 4.0) -> np.ndarray:
    """``u = sin(a1 pi x) sin(a2 pi y)`` on ``[-1, 1]^2``; zero on the boundary for integer ``a1, a2``.

    The defaults ``a1 = 1``, ``a2 = 4`` (with ``k = 1``) are the benchmark of Wang, Teng & Perdikaris (2021),
    SIAM J. Sci. Comput. 43(5).
    """
    x, y = _arrays(x, y)
    return np.sin(a1 * np.pi * x) * np.sin(a2 * np.pi * y)


def helmholtz_2d_source(x, y, *, a1: float = 1.0, a2: float = 4.0, k: float = 1.0) -> np.ndarray:
    """``q = lap(u) + k^2 u = (k^2 - (a1^2 + a2^2) pi^2) u`` for ``helmholtz_2d``."""
    return (k**2 - (a1**2 + a2**2) * np.pi**2) * helmholtz_2d(x, y, a1=a1, a2=a2)


# --- Kovasznay flow: steady incompressible Navier-Stokes -------------------------------------------------


def kovasznay_lambda(re: float = 20.0) -> float:
    """``lambda = re / 2 - sqrt(re^2 / 4 + 4 pi^2)`` (Kovasznay 1948)."""
    return re / 2.0 - np.sqrt(re**2 / 4.0 + 4.0 * np.pi**2)


def kovasznay(x, y, *, re: float = 20.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kovasznay (1948) flow behind a grid, an exact steady Navier-Stokes solution.

    Kovasznay, L. I. G. (1948), "Laminar flow behind a two-dimensional grid", Proc. Camb. Phil. Soc. 44,
    58-62. Solves ``(u . grad) u = -grad p + lap(u) / re``, ``div u = 0`` with::

        u = 1 - exp(lambda x) cos(2 pi y),
        v = lambda / (2 pi) exp(lambda x) sin(2 pi y),
        p = (1 - exp(2 lambda x)) / 2,

    ``lambda = kovasznay_lambda(re)``; the usual domain is ``[-0.5, 1] x [-0.5, 1.5]``.
    Returns ``(u, v, p)``, each of the broadcast shape of ``x`` and ``y``.
    """
    x, y = np.broadcast_arrays(*_arrays(x, y))  # p depends on x only but takes the common shape
    lam = kovasznay_lambda(re)
    decay = np.exp(lam * x)
    u = 1.0 - decay * np.cos(2.0 * np.pi * y)
    v = lam / (2.0 * np.pi) * decay * np.sin(2.0 * np.pi * y)
    p = 0.5 * (1.0 - decay**2)
    return u, v, p
