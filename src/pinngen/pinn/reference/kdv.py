"""Reference solution of the Korteweg-de Vries problem of Raissi, Perdikaris & Karniadakis (2019).

Problem (Raissi et al. 2019, J. Comput. Phys. 378, sec. 4.2.2)::

    u_t + u u_x + delta2 * u_xxx = 0,   x in [-1, 1] periodic,  t in [0, 1],
    u(x, 0) = cos(pi x),   delta2 = 0.0025.

Method: Fourier pseudo-spectral in space, ETDRK4 in time (Kassam & Trefethen 2005, SIAM J. Sci. Comput.
26(4), sec. 3 and their ``kdv.m``): the dispersive term is the exact part ``L = i delta2 k^3`` (purely
imaginary, so the contour average keeps its complex value) and ``N(u) = -(u^2 / 2)_x`` is explicit.
The defaults (512 modes, ``dt = 2.5e-4``) are accurate to ~3e-10; 128 modes already reach ~1e-12 in space.

Exact check (``kdv_soliton``): for ``u_t + u u_x + delta^2 u_xxx = 0`` the travelling wave
``u = 3 c sech^2(sqrt(c) / (2 delta) (x - c t - x0))`` is a solution; substituting gives the two
conditions ``c = 4 delta^2 kappa^2`` and ``A = 12 delta^2 kappa^2`` for ``A sech^2(kappa (x - c t))``, i.e.
``kappa = sqrt(c) / (2 delta)``, ``A = 3 c``.

Output convention: ``u[i, j] = u(x[j], t[i])``, shape ``(len(t), len(x))``. Default grid: the periodic
``x_j = -1 + 2 j / 512`` (endpoint excluded) and ``t = linspace(0, 1, 201)``; other ``x`` are evaluated
by exact spectral interpolation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .spectral import (
    etdrk4_solve,
    fourier_interpolate,
    odd_derivative_wavenumbers,
    periodic_grid,
)

DELTA2_DEFAULT = 0.0025


def kdv_grid(nx: int = 512, nt: int = 201) -> tuple[np.ndarray, np.ndarray]:
    """Default output grid: periodic ``x = -1 + 2 j / nx`` (no endpoint), ``t = linspace(0, 1, nt)``."""
    return periodic_grid(nx, -1.0, 2.0), np.linspace(0.0, 1.0, nt)


def kdv_soliton(x, t, *, c: float, delta2: float = DELTA2_DEFAULT, x0: float = 0.0) -> np.ndarray:
    """Exact soliton ``3 c sech^2(sqrt(c) / (2 delta) (x - c t - x0))`` of ``u_t + u u_x + delta2 u_xxx = 0``.

    ``x`` and ``t`` broadcast against each other; the result has their broadcast shape. Valid on the whole
    line; on a periodic domain it is exact up to its tail at half a period, ``~ 12 c exp(-kappa L)``.
    """
    x, t = np.asarray(x, dtype=float), np.asarray(t, dtype=float)
    kappa = np.sqrt(c) / (2.0 * np.sqrt(delta2))
    return 3.0 * c / np.cosh(kappa * (x - c * t - x0)) ** 2


def kdv_solve(
    u0: Callable[[np.ndarray], np.ndarray],
    x,
    t,
    *,
    domain: tuple[float, float] = (-1.0, 1.0),
    delta2: float = DELTA2_DEFAULT,
    n_modes: int = 512,
    dt: float = 2.5e-4,
) -> np.ndarray:
    """Solve ``u_t + u u_x + delta2 u_xxx = 0`` on the periodic ``domain`` from ``u(x, 0) = u0(x)``.

    Args:
        u0: vectorised initial condition, sampled on the ``n_modes`` periodic grid of ``domain``.
        x: output points, shape ``(nx,)``.
        t: output times ``>= 0``, non-decreasing, shape ``(nt,)``.
        domain: ``(a, b)``; the period is ``b - a``.
        delta2: dispersion coefficient, ``> 0``.
        n_modes: Fourier grid size (even).
        dt: largest ETDRK4 step; the explicit advection needs roughly ``dt * max|u| * k_max < 1``.

    Returns:
        ``u`` of shape ``(nt, nx)``, ``u[i, j] = u(x[j], t[i])``.
    """
    a, b = domain
    if not b > a:
        raise ValueError(f"domain must be (a, b) with b > a, got {domain!r}")
    if not delta2 > 0.0:
        raise ValueError(f"delta2 must be positive, got {delta2!r}")
    if n_modes < 8 or n_modes % 2:
        raise ValueError(f"n_modes must be an even integer >= 8, got {n_modes!r}")
    length = b - a
    x = np.atleast_1d(np.asarray(x, dtype=float))
    t = np.atleast_1d(np.asarray(t, dtype=float))
    k_odd = odd_derivative_wavenumbers(n_modes, length)

    def nonlin(v: np.ndarray) -> np.ndarray:
        u = np.fft.irfft(v, n=n_modes)
        return -0.5j * k_odd * np.fft.rfft(u * u)

    v0 = np.fft.rfft(u0(periodic_grid(n_modes, a, length)))
    spectra = etdrk4_solve(v0, 1j * delta2 * k_odd**3, nonlin, t, dt=dt)
    return fourier_interpolate(spectra, n_modes, a, length, x)


def kdv_reference(
    x=None,
    t=None,
    *,
    delta2: float = DELTA2_DEFAULT,
    n_modes: int = 512,
    dt: float = 2.5e-4,
) -> np.ndarray:
    """Raissi's KdV problem, ``u(x, 0) = cos(pi x)`` on periodic ``[-1, 1]``; shape ``(nt, nx)``.

    ``x`` and ``t`` default to ``kdv_grid()``; other arguments as in ``kdv_solve``.
    """
    x_default, t_default = kdv_grid()
    x = x_default if x is None else x
    t = t_default if t is None else t
    return kdv_solve(lambda s: np.cos(np.pi * s), x, t, delta2=delta2, n_modes=n_modes, dt=dt)
