"""ETDRK4 and Fourier helpers on problems with exact answers."""

import numpy as np
import pytest

from pinngen.pinn.reference.spectral import (
    etdrk4_coefficients,
    etdrk4_solve,
    fourier_interpolate,
    periodic_grid,
)


def bernoulli_exact(a, v0, t):
    """Exact solution of v' = a v - v^2 (valid for complex a; a = 0 gives v0 / (1 + v0 t))."""
    growth = np.exp(a * t)
    safe_a = np.where(a == 0, 1.0, a)
    general = safe_a * v0 * growth / (safe_a + v0 * (growth - 1.0))
    return np.where(a == 0, v0 / (1.0 + v0 * t), general)


# ETDRK4 integrates the linear part exactly but needs N(v(t)) smooth on the step scale, so the complex
# case keeps Im(a) * dt moderate (with Im(a) = 200 the order shows only for dt < 0.0125).
@pytest.mark.parametrize("a", [np.array([-50.0, -1.0, 0.0, 2.0]), np.array([-1.0 + 30.0j, -3.0 - 20.0j])])
def test_etdrk4_fourth_order_on_stiff_bernoulli(a):
    v0 = np.full(a.shape, 0.5, dtype=complex)
    t_out = np.array([0.0, 0.5, 1.0])
    exact = bernoulli_exact(a, v0, t_out[:, None])
    errors = []
    for dt in (0.05, 0.025, 0.0125):
        v = etdrk4_solve(v0, a, lambda w: -(w**2), t_out, dt=dt)
        errors.append(np.abs(v - exact).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all(ratios > 12.0), (errors, ratios)
    assert errors[-1] < 1e-6


def test_contour_coefficients_match_rk4_weights_at_zero():
    h = 0.1
    c = etdrk4_coefficients(np.array([0.0, -1e-12]), h)
    np.testing.assert_allclose(c.q, h / 2, rtol=1e-12)
    for f in (c.f1, c.f2, c.f3):
        np.testing.assert_allclose(f, h / 6, rtol=1e-12)


def test_contour_coefficients_match_direct_formulas_away_from_zero():
    """Kassam & Trefethen (2005) eq. (2.5) evaluated directly, where it has no cancellation problem."""
    h = 0.5
    lin = np.array([-4.0 + 0.0j, -40.0, 6.0j, -2.0 - 30.0j])
    z = h * lin
    c = etdrk4_coefficients(lin, h)
    np.testing.assert_allclose(c.q, h * (np.exp(z / 2) - 1) / z, rtol=1e-12)
    np.testing.assert_allclose(c.f1, h * (-4 - z + np.exp(z) * (4 - 3 * z + z**2)) / z**3, rtol=1e-12)
    np.testing.assert_allclose(c.f2, h * (2 + z + np.exp(z) * (z - 2)) / z**3, rtol=1e-12)
    np.testing.assert_allclose(c.f3, h * (-4 - 3 * z - z**2 + np.exp(z) * (4 - z)) / z**3, rtol=1e-12)


def test_fourier_interpolation_is_exact_for_trig_polynomials():
    n, a, length = 32, -1.0, 2.0

    def f(x):
        return 1.0 + np.sin(np.pi * x) - 0.3 * np.cos(5 * np.pi * x) + 0.1 * np.cos(16 * np.pi * x)

    u_hat = np.fft.rfft(f(periodic_grid(n, a, length)))
    x = np.linspace(-3.0, 3.0, 101)
    np.testing.assert_allclose(fourier_interpolate(u_hat, n, a, length, x), f(x), atol=1e-13)


def test_solve_rejects_bad_times():
    with pytest.raises(ValueError, match="t_out"):
        etdrk4_solve(np.ones(3), -np.ones(3), lambda v: 0 * v, np.array([1.0, 0.5]), dt=0.1)
    with pytest.raises(ValueError, match="dt"):
        etdrk4_solve(np.ones(3), -np.ones(3), lambda v: 0 * v, np.array([1.0]), dt=0.0)
