"""KdV reference: exact soliton, 4th order in time, spectral in space, conserved quantities."""

import numpy as np
import pytest

from pinngen.pinn.reference.kdv import kdv_grid, kdv_reference, kdv_soliton, kdv_solve

DELTA2 = 0.0025


def _soliton_residual(c, x0, h, scale=1.0):
    """u_t + u u_x + delta2 u_xxx of ``scale * soliton`` by centred differences of step ``h``; shape (33,)."""
    x = np.linspace(-0.8, 0.8, 33)
    t = 0.4

    def u(xx, tt):
        return scale * kdv_soliton(xx, tt, c=c, x0=x0)

    u_t = (u(x, t + h) - u(x, t - h)) / (2 * h)
    u_x = (u(x + h, t) - u(x - h, t)) / (2 * h)
    u_xxx = (u(x + 2 * h, t) - 2 * u(x + h, t) + 2 * u(x - h, t) - u(x - 2 * h, t)) / (2 * h**3)
    return u_t + u(x, t) * u_x + DELTA2 * u_xxx, np.abs(u_t).max()


@pytest.mark.parametrize("c, x0", [(1.0, -0.5), (0.4, 0.3)])
def test_soliton_formula_solves_kdv(c, x0):
    """Plugged into the PDE, the formula leaves only the O(h^2) truncation error of the differences."""
    coarse, scale = _soliton_residual(c, x0, 2e-3)
    fine, _ = _soliton_residual(c, x0, 1e-3)
    assert scale > 1.0 and np.abs(fine).max() < 1e-3 * scale
    ratio = np.abs(coarse).max() / np.abs(fine).max()
    assert 3.5 < ratio < 4.5, ratio
    wrong, _ = _soliton_residual(c, x0, 1e-3, scale=1.1)  # a wrong amplitude is not a solution
    assert np.abs(wrong).max() > 0.05 * scale


def test_solver_matches_soliton_with_fourth_order_in_time():
    x = np.linspace(-4.0, 4.0, 200, endpoint=False)
    t = np.array([0.5, 1.0])
    exact = kdv_soliton(x[None, :], t[:, None], c=1.0, x0=-0.5)
    errors = []
    for dt in (1e-3, 5e-4, 2.5e-4):
        u0 = lambda s: kdv_soliton(s, 0.0, c=1.0, x0=-0.5)  # noqa: E731
        u = kdv_solve(u0, x, t, domain=(-4.0, 4.0), n_modes=512, dt=dt)
        errors.append(np.abs(u - exact).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all(ratios > 13.0), (errors, ratios)  # measured 18.9, 17.4
    assert errors[-1] < 1e-8


def test_raissi_problem_converges_in_time_and_space():
    x = np.linspace(-1.0, 1.0, 64, endpoint=False)
    t = np.array([0.5, 1.0])
    fine_t = kdv_reference(x, t, n_modes=256, dt=1.25e-4)
    errors = [np.abs(kdv_reference(x, t, n_modes=256, dt=dt) - fine_t).max() for dt in (2e-3, 1e-3, 5e-4)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 13.0) & (ratios < 20.0)), (errors, ratios)  # measured 17.1, 16.5
    fine_x = kdv_reference(x, t, n_modes=256, dt=1e-3)
    errors = [np.abs(kdv_reference(x, t, n_modes=n, dt=1e-3) - fine_x).max() for n in (64, 96, 128)]
    assert errors[0] > 100 * errors[1] > 1e4 * errors[2], errors  # measured 3e-6, 6e-9, 3e-13


def test_default_grid_and_invariants():
    x, t = kdv_grid()
    u = kdv_reference()
    assert u.shape == (201, 512) == (t.size, x.size)
    np.testing.assert_allclose(u[0], np.cos(np.pi * x), atol=1e-13)
    # mass and energy of u_t + u u_x + delta2 u_xxx = 0 are conserved; the periodic mean is spectral
    np.testing.assert_allclose(u.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(2.0 * (u**2).mean(axis=1), 1.0, rtol=1e-9)
    assert u.max() > 2.0  # the cosine breaks into a soliton train


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="domain"):
        kdv_solve(np.cos, [0.0], [0.1], domain=(1.0, -1.0))
    with pytest.raises(ValueError, match="delta2"):
        kdv_reference([0.0], [0.1], delta2=-1.0)
