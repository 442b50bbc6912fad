"""Closed-form solutions: PDE residuals by fourth-order centred differences, boundary and initial data."""

import numpy as np
import pytest

from pinngen.pinn.reference.closed_form import (
    heat_1d,
    helmholtz_2d,
    helmholtz_2d_source,
    kovasznay,
    kovasznay_lambda,
    poisson_2d,
    poisson_2d_source,
    wave_1d,
)

H = 1e-3  # fourth-order differences: truncation ~h^4 |f^(6)|, rounding ~1e-16 |f| / h^2


def d1(f, h=H):
    """First derivative of f(s) at s = 0 by the 5-point centred formula."""
    return (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)


def d2(f, h=H):
    """Second derivative of f(s) at s = 0 by the 5-point centred formula."""
    return (-f(2 * h) + 16 * f(h) - 30 * f(0.0) + 16 * f(-h) - f(-2 * h)) / (12 * h**2)


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    return rng.uniform(0.05, 0.95, size=(2, 200))  # (coordinate, point)


def test_heat(points):
    x, t = points
    k = 0.1
    u_t = d1(lambda s: heat_1d(x, t + s, k=k))
    u_xx = d2(lambda s: heat_1d(x + s, t, k=k))
    assert np.abs(u_t).max() > 0.5
    np.testing.assert_allclose(u_t - k * u_xx, 0.0, atol=1e-7)
    np.testing.assert_allclose(heat_1d(np.array([0.0, 1.0]), 0.3, k=k), 0.0, atol=1e-14)
    x_line = np.linspace(0, 1, 11)
    initial = np.sin(np.pi * x_line) + 0.5 * np.sin(4 * np.pi * x_line)
    np.testing.assert_allclose(heat_1d(x_line, 0.0), initial)


def test_poisson(points):
    x, y = points
    lap = d2(lambda s: poisson_2d(x + s, y)) + d2(lambda s: poisson_2d(x, y + s))
    assert np.abs(poisson_2d_source(x, y)).max() > 5.0
    np.testing.assert_allclose(-lap, poisson_2d_source(x, y), atol=1e-6)
    edge = np.linspace(0, 1, 21)
    for bx, by in ((edge, 0.0), (edge, 1.0), (0.0, edge), (1.0, edge)):
        np.testing.assert_allclose(poisson_2d(bx, by), 0.0, atol=1e-14)


@pytest.mark.parametrize("c", [1.0, 0.5])
def test_wave(points, c):
    x, t = points
    u_tt = d2(lambda s: wave_1d(x, t + s, c=c))
    u_xx = d2(lambda s: wave_1d(x + s, t, c=c))
    np.testing.assert_allclose(u_tt - c**2 * u_xx, 0.0, atol=1e-5)  # |u_tt| up to ~80
    np.testing.assert_allclose(d1(lambda s: wave_1d(x, s, c=c)), 0.0, atol=1e-9)  # u_t(x, 0) = 0
    np.testing.assert_allclose(wave_1d(np.array([0.0, 1.0]), t[:, None], c=c), 0.0, atol=1e-14)


def test_helmholtz(points):
    x, y = 2 * points - 1  # [-1, 1]^2
    a1, a2, k = 1.0, 4.0, 1.0
    lap = d2(lambda s: helmholtz_2d(x + s, y)) + d2(lambda s: helmholtz_2d(x, y + s))
    q = helmholtz_2d_source(x, y, a1=a1, a2=a2, k=k)
    np.testing.assert_allclose(lap + k**2 * helmholtz_2d(x, y), q, atol=1e-5)
    edge = np.linspace(-1, 1, 21)
    for bx, by in ((edge, -1.0), (edge, 1.0), (-1.0, edge), (1.0, edge)):
        np.testing.assert_allclose(helmholtz_2d(bx, by), 0.0, atol=1e-14)


def test_kovasznay(points):
    x = 1.5 * points[0] - 0.5  # [-0.5, 1] x [-0.5, 1.5]
    y = 2.0 * points[1] - 0.5
    re = 20.0
    assert kovasznay_lambda(re) == pytest.approx(10 - np.sqrt(100 + 4 * np.pi**2))
    u, v, _ = kovasznay(x, y, re=re)

    def field(i, dx, dy):
        return kovasznay(x + dx, y + dy, re=re)[i]

    grad = {
        (i, axis): d1(lambda s, i=i, axis=axis: field(i, s, 0.0) if axis == 0 else field(i, 0.0, s))
        for i in range(3)
        for axis in (0, 1)
    }
    lap = [d2(lambda s, i=i: field(i, s, 0.0)) + d2(lambda s, i=i: field(i, 0.0, s)) for i in range(2)]
    np.testing.assert_allclose(grad[0, 0] + grad[1, 1], 0.0, atol=1e-8)
    mom_x = u * grad[0, 0] + v * grad[0, 1] + grad[2, 0] - lap[0] / re
    mom_y = u * grad[1, 0] + v * grad[1, 1] + grad[2, 1] - lap[1] / re
    assert np.abs(grad[2, 0]).max() > 1.0
    np.testing.assert_allclose(mom_x, 0.0, atol=1e-7)
    np.testing.assert_allclose(mom_y, 0.0, atol=1e-7)


def test_broadcasting_shapes():
    x, t = np.linspace(0, 1, 7), np.linspace(0, 1, 5)
    assert heat_1d(x[None, :], t[:, None]).shape == (5, 7)
    assert wave_1d(x, x).shape == (7,)
    assert all(f.shape == (5, 7) for f in kovasznay(x[None, :], t[:, None]))
