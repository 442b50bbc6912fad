"""Every library problem: its exact/reference solution has ~zero residual through OUR operators, satisfies
its conditions, and the closed forms agree with the independent NumPy references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.pinn.problems import PROBLEMS, get_problem, options

CLOSED_FORM = ["heat", "poisson", "wave", "helmholtz", "kovasznay"]


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_closed_form_has_zero_residual_and_matches_reference(x64, name):
    prob = get_problem(name)
    x = jnp.asarray(prob.geometry.sample_interior(256, method="sobol", rng=0))
    res = jax.jit(lambda x: prob.residuals(prob.exact, x, prob.parameter_values()))(x)
    for term, r in res.items():
        assert float(jnp.max(jnp.abs(r))) < 1e-9, (name, term)
    ref = prob.reference
    np.testing.assert_allclose(np.asarray(prob.exact(jnp.asarray(ref.points))), ref.values, atol=1e-12)
    for c in prob.conditions:
        data = jax.tree_util.tree_map(jnp.asarray, c.prepare(c.sample(64, "sobol", np.random.default_rng(1))))
        assert float(c.loss(prob.exact, data, prob.parameter_values())) < 1e-20, (name, c.name)


def _fd_residual(u, x, t, dx, dt):
    """Centred differences of u[i, j] = u(x[j], t[i]) on the interior: (u_t, u_x, u_xx, u_xxx)."""
    u_t = (u[2:, 2:-2] - u[:-2, 2:-2]) / (2 * dt)
    c = u[1:-1]
    u_x = (c[:, 3:-1] - c[:, 1:-3]) / (2 * dx)
    u_xx = (c[:, 3:-1] - 2 * c[:, 2:-2] + c[:, 1:-3]) / dx**2
    u_xxx = (c[:, 4:] - 2 * c[:, 3:-1] + 2 * c[:, 1:-3] - c[:, :-4]) / (2 * dx**3)
    return u_t, c[:, 2:-2], u_x, u_xx, u_xxx


def test_burgers_cole_hopf_reference_has_small_fd_residual():
    from pinngen.pinn.reference import burgers_reference

    x = np.linspace(-1, 1, 4001)
    dt = 1e-4
    t = np.concatenate([[tc - dt, tc, tc + dt] for tc in (0.2, 0.5, 0.9)])
    u = burgers_reference(x, t)
    nu = 0.01 / np.pi
    for k in range(3):
        u_t, uc, u_x, u_xx, _ = _fd_residual(u[3 * k : 3 * k + 3], x, t, x[1] - x[0], dt)
        r = u_t + uc * u_x - nu * u_xx
        scale = np.max(np.abs(uc * u_x))
        assert np.max(np.abs(r)) / scale < 2e-2  # FD truncation error across the steep front
        assert np.sqrt(np.mean(r**2)) / np.sqrt(np.mean((uc * u_x) ** 2)) < 2e-3


@pytest.mark.parametrize("name", ["allen_cahn", "kdv"])
def test_spectral_references_have_small_fd_residual(name):
    from pinngen.pinn.reference import allen_cahn_reference, kdv_reference

    x = np.linspace(-1, 1, 2001)
    dt = 1e-4
    t = np.array([0.5 - dt, 0.5, 0.5 + dt])
    if name == "allen_cahn":
        u = allen_cahn_reference(x, t)
        u_t, uc, _, u_xx, _ = _fd_residual(u, x, t, x[1] - x[0], dt)
        r = u_t - 1e-4 * u_xx + 5 * uc**3 - 5 * uc
        scale = np.max(np.abs(5 * uc**3 - 5 * uc))
    else:
        u = kdv_reference(x, t)
        u_t, uc, u_x, _, u_xxx = _fd_residual(u, x, t, x[1] - x[0], dt)
        r = u_t + uc * u_x + 0.0025 * u_xxx
        scale = np.max(np.abs(uc * u_x))
    assert np.max(np.abs(r)) / scale < 1e-3


def test_burgers_residual_wiring_with_a_closed_form():
    """u = -exp(-nu pi^2 t) sin(pi x) solves u_t = nu u_xx, so the Burgers residual leaves exactly u u_x."""
    prob = get_problem("burgers")
    nu = 0.01 / np.pi

    def heat_like(x):
        return (-jnp.exp(-nu * jnp.pi**2 * x[:, 1]) * jnp.sin(jnp.pi * x[:, 0]))[:, None]

    x = jnp.asarray(prob.geometry.sample_interior(64, method="sobol", rng=0))
    with jax.enable_x64(True):
        x = jnp.asarray(x, jnp.float64)
        r = prob.residuals(heat_like, x, prob.parameter_values())["pde"]
        u = heat_like(x)[:, 0]
        u_x = (-jnp.exp(-nu * jnp.pi**2 * x[:, 1]) * jnp.pi * jnp.cos(jnp.pi * x[:, 0]))
        np.testing.assert_allclose(r, u * u_x, atol=1e-12)  # only the advection term is left


def test_cavity_report_against_ghia_with_the_fd_reference():
    prob = get_problem("cavity", n_ref=65)
    ref = prob.reference
    assert ref.points.min() > 0 and ref.points.max() < 1 and len(ref.points) == 63 * 63  # interior nodes
    from scipy.interpolate import RectBivariateSpline

    from pinngen.pinn.reference import cavity_reference

    s = cavity_reference(65, 100.0)
    su, sv = RectBivariateSpline(s.y, s.x, s.u), RectBivariateSpline(s.y, s.x, s.v)
    np.testing.assert_allclose(ref.grid(ref.values[:, 0]), s.u[1:-1, 1:-1])

    def predict(p):
        return np.column_stack([su.ev(p[:, 1], p[:, 0]), sv.ev(p[:, 1], p[:, 0]), np.zeros(len(p))])

    rep = prob.report(predict, None)
    assert rep["summary"]["ghia_max_dev"] < 0.01
    assert rep["summary"]["converged_max_dev"] < 0.005  # the 65 grid is 0.0038 off the converged lines
    assert len(rep["tables"][0]["rows"]) == 17 and len(rep["tables"][0]["rows"][0]) == 8


def test_burgers_inverse_data_and_unknowns():
    prob = get_problem("burgers_inverse", n_observations=500, noise=0.01)
    data = prob.condition("data")
    assert data.points.shape == (500, 2) and set(prob.unknowns) == {"l1", "l2"}
    assert prob.unknowns["l2"].true == pytest.approx(0.01 / np.pi)
    ref = prob.reference
    clean = get_problem("burgers_inverse", n_observations=500).condition("data").values
    assert 0 < np.std(data.values - clean) < 0.02 * np.std(ref.values)


def test_every_problem_builds_and_options_are_checked():
    for name in PROBLEMS:
        assert isinstance(options(name), dict)
    with pytest.raises(ValueError, match="unknown option"):
        get_problem("heat", kappa=1.0)
    with pytest.raises(ValueError, match="unknown problem"):
        get_problem("navier")


@pytest.mark.parametrize("scaling", ["saturating", "taylor", "none"])
def test_wave_hard_transform_holds_initial_and_boundary_conditions(x64, scaling):
    prob = get_problem("wave", hard=True, scaling=scaling)

    def u(x):  # any smooth raw output through the hard transform
        raw = jnp.sin(3.0 * x[:, :1] + 2.0 * x[:, 1:]) + 0.5
        return prob.transform({"x": x[:, 0], "t": x[:, 1]}, raw)

    s = jnp.linspace(0.0, 1.0, 33)
    x0 = jnp.stack([s, jnp.zeros_like(s)], axis=1)
    u0 = jnp.sin(jnp.pi * s) + 0.5 * jnp.sin(4 * jnp.pi * s)
    np.testing.assert_allclose(u(x0)[:, 0], u0, atol=1e-12)
    rate = jax.jvp(u, (x0,), (jnp.zeros_like(x0).at[:, 1].set(1.0),))[1]
    np.testing.assert_allclose(rate, 0.0, atol=1e-12)
    for edge in (0.0, 1.0):
        np.testing.assert_allclose(u(jnp.stack([jnp.full_like(s, edge), s], axis=1)), 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="scaling"):
        get_problem("wave", hard=True, scaling="log")


def test_cavity_default_builds_in_the_corner_flow_and_the_old_recipe_stays_by_name():
    from pinngen.config import load_config

    new, old = load_config("cavity"), load_config("cavity-taper")
    assert new.options["corner_flow"] is True and "corner_flow" not in old.options
    assert new.train == old.train and new.network == old.network and new.collocation == old.collocation
