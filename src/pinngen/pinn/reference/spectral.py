"""Fourier pseudo-spectral helpers and the ETDRK4 time stepper for periodic 1-D problems.

A semilinear PDE ``u_t = L u + N(u, t)`` is written in Fourier space, where the linear operator ``L`` is
diagonal (one complex number per real-FFT wavenumber) and the nonlinear part ``N`` is evaluated
pseudo-spectrally. ETDRK4 (Cox & Matthews 2002) integrates ``L`` exactly and ``N`` to fourth order; the
phi-function coefficients are evaluated by the contour-integral average of Kassam & Trefethen (2005),
"Fourth-order time-stepping for stiff PDEs", SIAM J. Sci. Comput. 26(4), 1214-1233, which avoids the
cancellation error of the explicit formulas for small ``|h L|``.

Conventions: the periodic domain is ``[a, a + length)`` sampled at ``n`` equispaced points
``x_j = a + j * length / n`` (endpoint excluded); spectra are ``numpy.fft.rfft`` outputs of shape
``(..., n // 2 + 1)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

NonlinearFn = Callable[[np.ndarray], np.ndarray]


def periodic_grid(n: int, a: float, length: float) -> np.ndarray:
    """Equispaced periodic grid ``a + j * length / n``, ``j = 0..n-1``; shape ``(n,)``."""
    return a + length * np.arange(n) / n


def wavenumbers(n: int, length: float) -> np.ndarray:
    """Angular wavenumbers ``2 pi m / length`` of ``rfft`` modes ``m = 0..n//2``; shape ``(n//2 + 1,)``."""
    return 2.0 * np.pi * np.arange(n // 2 + 1) / length


def odd_derivative_wavenumbers(n: int, length: float) -> np.ndarray:
    """Wavenumbers with the Nyquist mode zeroed, for odd-order derivatives of real fields (Trefethen 2000)."""
    k = wavenumbers(n, length)
    if n % 2 == 0:
        k[-1] = 0.0
    return k


def fourier_interpolate(u_hat: np.ndarray, n: int, a: float, length: float, x: np.ndarray) -> np.ndarray:
    """Evaluate the trigonometric interpolant of ``rfft`` spectra at arbitrary points.

    Args:
        u_hat: spectra, shape ``(..., n // 2 + 1)``.
        n: number of grid points the spectra came from.
        a, length: the periodic domain ``[a, a + length)``.
        x: points, shape ``(nx,)``; any real values (the interpolant is periodic).

    Returns:
        Values, shape ``(..., nx)``. The Nyquist mode is taken as a cosine, so the result is real and
        reproduces the grid values exactly.
    """
    x = np.asarray(x, dtype=float)
    k = wavenumbers(n, length)
    weight = np.full(k.shape, 2.0 / n)
    weight[0] = 1.0 / n
    if n % 2 == 0:
        weight[-1] = 1.0 / n
    phase = np.exp(1j * np.outer(k, x - a))  # (modes, nx)
    return np.real((u_hat * weight) @ phase)


@dataclass(frozen=True)
class ETDRK4Coefficients:
    """Per-mode coefficients for one step of size ``h`` (Kassam & Trefethen 2005, eq. (2.5) and sec. 5)."""

    h: float
    e: np.ndarray  # exp(h L)
    e2: np.ndarray  # exp(h L / 2)
    q: np.ndarray  # h * phi-type weight of the half steps
    f1: np.ndarray
    f2: np.ndarray
    f3: np.ndarray


def etdrk4_coefficients(lin: np.ndarray, h: float, *, n_contour: int = 64) -> ETDRK4Coefficients:
    """ETDRK4 coefficients for diagonal ``lin`` and step ``h``.

    The functions of ``z = h L`` are averaged over ``n_contour`` points on a unit circle centred at each
    ``z`` (Kassam & Trefethen 2005, sec. 5). For real ``lin`` the imaginary parts cancel and are dropped.
    """
    if h <= 0.0:
        raise ValueError(f"h must be positive, got {h!r}")
    lin = np.asarray(lin)
    z = h * lin
    roots = np.exp(2j * np.pi * (np.arange(n_contour) + 0.5) / n_contour)
    lr = z[:, None] + roots[None, :]  # (modes, n_contour)
    elr = np.exp(lr)

    def average(values: np.ndarray) -> np.ndarray:
        mean = h * values.mean(axis=1)
        return mean.real if np.isrealobj(lin) else mean

    return ETDRK4Coefficients(
        h=h,
        e=np.exp(z),
        e2=np.exp(z / 2.0),
        q=average((np.exp(lr / 2.0) - 1.0) / lr),
        f1=average((-4.0 - lr + elr * (4.0 - 3.0 * lr + lr**2)) / lr**3),
        f2=average((2.0 + lr + elr * (lr - 2.0)) / lr**3),
        f3=average((-4.0 - 3.0 * lr - lr**2 + elr * (4.0 - lr)) / lr**3),
    )


def etdrk4_step(v: np.ndarray, c: ETDRK4Coefficients, nonlin: NonlinearFn) -> np.ndarray:
    """One ETDRK4 step of ``v_t = L v + N(v)`` in Fourier space (Kassam & Trefethen 2005, eq. (2.5))."""
    nv = nonlin(v)
    a = c.e2 * v + c.q * nv
    na = nonlin(a)
    b = c.e2 * v + c.q * na
    nb = nonlin(b)
    cc = c.e2 * a + c.q * (2.0 * nb - nv)
    nc = nonlin(cc)
    return c.e * v + nv * c.f1 + 2.0 * (na + nb) * c.f2 + nc * c.f3


def etdrk4_solve(
    v0: np.ndarray,
    lin: np.ndarray,
    nonlin: NonlinearFn,
    t_out: np.ndarray,
    *,
    dt: float,
) -> np.ndarray:
    """Integrate ``v_t = L v + N(v)`` from ``t = 0`` and return the spectra at the times ``t_out``.

    Each gap between consecutive output times is split into equal steps no longer than ``dt``, so every
    output time is hit exactly; coefficients are recomputed only when the step size changes.

    Args:
        v0: initial spectrum, shape ``(modes,)``.
        lin: diagonal linear operator, shape ``(modes,)``.
        nonlin: spectrum -> spectrum, the nonlinear term.
        t_out: non-decreasing output times ``>= 0``, shape ``(nt,)``.
        dt: largest step allowed.

    Returns:
        Spectra, shape ``(nt, modes)``.
    """
    t_out = np.asarray(t_out, dtype=float)
    if t_out.ndim != 1 or np.any(np.diff(t_out) < 0) or (t_out.size and t_out[0] < 0):
        raise ValueError("t_out must be a 1-D non-decreasing array of times >= 0")
    if dt <= 0.0:
        raise ValueError(f"dt must be positive, got {dt!r}")
    out = np.empty((t_out.size, v0.size), dtype=np.result_type(v0, lin, complex))
    v, t_now, coeffs = np.asarray(v0), 0.0, None
    for i, t_next in enumerate(t_out):
        gap = t_next - t_now
        n_steps = int(np.ceil(gap / dt - 1e-9)) if gap > 0 else 0
        if n_steps:
            h = gap / n_steps
            if coeffs is None or not np.isclose(coeffs.h, h, rtol=1e-12, atol=0.0):
                coeffs = etdrk4_coefficients(lin, h)
            for _ in range(n_steps):
                v = etdrk4_step(v, coeffs, nonlin)
        out[i] = v
        t_now = t_next
    return out
