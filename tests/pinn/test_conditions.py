"""Conditions: zero loss on the exact solution, positive on a perturbed one; hard constraints exact."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.pinn.conditions import (
    Dirichlet,
    InitialValue,
    Neumann,
    Observations,
    OutputTransform,
    Periodic,
    Robin,
    add_noise,
    hard_dirichlet,
    hard_initial,
)
from pinngen.pinn.geometry import Disk, Interval, Rectangle, TimeDomain
from pinngen.pinn.network import PINN
from pinngen.pinn.problem import Problem
from pinngen.pinn.problems import get_problem


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def _losses(problem, f, n=64, seed=0):
    out = {}
    for i, c in enumerate(problem.conditions):
        data = c.prepare(c.sample(n, "sobol", np.random.default_rng([seed, i])))
        data = jax.tree_util.tree_map(jnp.asarray, data)
        out[c.name] = float(jax.jit(lambda d, c=c: c.loss(f, d, problem.parameter_values()))(data))
    return out


def _exact_2d(x):  # u = exp(x) sin(y) + x y
    return (jnp.exp(x[:, 0]) * jnp.sin(x[:, 1]) + x[:, 0] * x[:, 1])[:, None]


def _grad_2d(c):
    return jnp.exp(c["x"]) * jnp.sin(c["y"]) + c["y"], jnp.exp(c["x"]) * jnp.cos(c["y"]) + c["x"]


def _flux(geometry, part):
    """du/dn on `part` of `geometry` for _exact_2d, using the geometry's own normals."""
    def value(c):
        gx, gy = _grad_2d(c)
        x = np.column_stack([np.asarray(c["x"]), np.asarray(c["y"])])
        nrm = geometry.boundary_normal(x, part=part)
        return gx * nrm[:, 0] + gy * nrm[:, 1]
    return value


@pytest.mark.parametrize("geometry,part", [(Rectangle([0, 0], [1, 2]), "top"), (Rectangle([0, 0], [1, 2]), "left"),
                                           (Disk([0.0, 0.0], 1.0), "circle")])
def test_dirichlet_neumann_robin_zero_on_exact(geometry, part):
    flux = _flux(geometry, part)

    def dirichlet_value(c):
        return _exact_2d(jnp.stack([c["x"], c["y"]], axis=1))[:, 0]

    conds = [Dirichlet("d", on=part, value=dirichlet_value), Neumann("n", on=part, value=flux),
             Robin("r", on=part, alpha=2.0, beta=0.5, value=lambda c: 2.0 * dirichlet_value(c) + 0.5 * flux(c))]
    prob = Problem(name="p", inputs=("x", "y"), outputs=("u",), geometry=geometry,
                   residual=lambda d, p: d["u_xx"], conditions=conds)
    exact = _losses(prob, _exact_2d)
    assert max(exact.values()) < 1e-20
    perturbed = _losses(prob, lambda x: _exact_2d(x) + 0.1 * jnp.sin(3 * x[:, :1] + x[:, 1:]))
    assert min(perturbed.values()) > 1e-6


def test_initial_value_and_rate_zero_on_wave_exact():
    prob = get_problem("wave")
    losses = _losses(prob, prob.exact)
    assert max(losses.values()) < 1e-20 and set(losses) == {"bc", "ic", "ic_rate"}
    bad = _losses(prob, lambda x: prob.exact(x) + 0.05 * x[:, 1:] * jnp.sin(jnp.pi * x[:, :1]))
    assert bad["ic_rate"] > 1e-5 and bad["ic"] < 1e-20  # the perturbation is zero at t = 0, not its rate


def test_periodic_pairs():
    prob = Problem(name="p", inputs=("x", "t"), outputs=("u",), geometry=Interval(-1, 1) * TimeDomain(0, 1),
                   residual=lambda d, p: d["u_t"], conditions=[Periodic("per", dim="x", order=2)])
    periodic = _losses(prob, lambda x: (jnp.cos(jnp.pi * x[:, 0]) * jnp.exp(-x[:, 1]))[:, None])
    assert periodic["per"] < 1e-20
    # u = x^2 has equal values at +-1 but opposite slopes: order=0 passes, order>=1 catches it.
    assert _losses(prob, lambda x: x[:, :1] ** 2)["per"] > 1.0
    prob0 = Problem(name="p", inputs=("x", "t"), outputs=("u",), geometry=Interval(-1, 1) * TimeDomain(0, 1),
                    residual=lambda d, p: d["u_t"], conditions=[Periodic("per", dim="x", order=0)])
    assert _losses(prob0, lambda x: x[:, :1] ** 2)["per"] < 1e-20


def test_observations_and_noise():
    pts = np.array([[0.1, 0.2], [0.5, 0.9]])
    prob = Problem(name="p", inputs=("x", "y"), outputs=("u",), geometry=Rectangle([0, 0], [1, 1]),
                   residual=lambda d, p: d["u_xx"],
                   conditions=[Observations("data", points=pts, values=np.asarray(_exact_2d(jnp.asarray(pts))))])
    assert _losses(prob, _exact_2d)["data"] < 1e-20
    assert _losses(prob, lambda x: _exact_2d(x) + 0.1)["data"] == pytest.approx(0.01)
    noisy = add_noise(np.ones(10000) + np.arange(10000) % 2, 0.1, seed=1)
    assert np.std(noisy - (np.ones(10000) + np.arange(10000) % 2)) == pytest.approx(0.05, rel=0.05)


def test_observation_points_outside_raise():
    with pytest.raises(ValueError, match="outside the domain"):
        Problem(name="p", inputs=("x", "y"), outputs=("u",), geometry=Rectangle([0, 0], [1, 1]),
                residual=lambda d, p: d["u_xx"],
                conditions=[Observations("data", points=[[0.5, 0.5], [1.5, 0.2]], values=[0.0, 0.0])])


def test_unknown_boundary_part_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown boundary part 'north'.*'left', 'right', 'bottom', 'top'"):
        Problem(name="p", inputs=("x", "y"), outputs=("u",), geometry=Rectangle([0, 0], [1, 1]),
                residual=lambda d, p: d["u_xx"], conditions=[Dirichlet("bc", on="north")])
    with pytest.raises(ValueError, match="not outputs"):
        Problem(name="p", inputs=("x", "y"), outputs=("u",), geometry=Rectangle([0, 0], [1, 1]),
                residual=lambda d, p: d["u_xx"], conditions=[Dirichlet("bc", component="v")])
    with pytest.raises(ValueError, match="SpaceTime"):
        Problem(name="p", inputs=("x", "y"), outputs=("u",), geometry=Rectangle([0, 0], [1, 1]),
                residual=lambda d, p: d["u_xx"], conditions=[InitialValue("ic")])


def test_hard_constraints_hold_exactly_for_any_network():
    burgers = get_problem("burgers", hard=True)
    model = PINN(burgers, hidden=[8, 8], key=jax.random.PRNGKey(3), dtype=jnp.float64)
    x = np.linspace(-1, 1, 11)
    at_t0 = np.asarray(model(jnp.asarray(np.column_stack([x, np.zeros(11)]))))[:, 0]
    np.testing.assert_allclose(at_t0, -np.sin(np.pi * x), atol=1e-14)
    t = np.linspace(0, 1, 7)
    walls = np.asarray(model(jnp.asarray(np.column_stack([np.r_[-np.ones(7), np.ones(7)], np.r_[t, t]]))))
    np.testing.assert_allclose(walls, 0.0, atol=1e-14)
    assert burgers.conditions == () and "dirichlet" in burgers.transform.enforces

    wave = get_problem("wave", hard=True)
    wmodel = PINN(wave, hidden=[8], key=jax.random.PRNGKey(0), dtype=jnp.float64)
    xs = jnp.asarray(np.column_stack([np.linspace(0, 1, 9), np.zeros(9)]))
    rate = jax.jvp(wmodel, (xs,), (jnp.zeros_like(xs).at[:, 1].set(1.0),))[1]
    np.testing.assert_allclose(rate, 0.0, atol=1e-14)


def test_transform_helpers_compose():
    c = {"x": jnp.array([0.0, 0.5, 1.0]), "t": jnp.array([0.0, 0.0, 1.0])}
    raw = jnp.ones((3, 1))
    ic = hard_initial(lambda c: c["x"] ** 2)
    np.testing.assert_allclose(ic(c, raw)[:, 0], [0.0, 0.25, 2.0])
    bc = hard_dirichlet(lambda c: c["x"] * (1 - c["x"]), value=2.0)
    np.testing.assert_allclose(bc(c, raw)[:, 0], [2.0, 2.25, 2.0])
    both = OutputTransform(lambda c, r: 2 * r).then(bc)
    np.testing.assert_allclose(both(c, raw)[:, 0], [2.0, 2.5, 2.0])


def test_point_weights_scale_each_squared_error():
    geo = Rectangle([0.0, 0.0], [1.0, 1.0])

    def residual(d, p):
        return d["u_xx"] + d["u_yy"]

    weight = lambda c: c["x"]  # noqa: E731
    prob = Problem(name="w", inputs=("x", "y"), outputs=("u",), geometry=geo, residual=residual,
                   conditions=[Dirichlet("bc", on="top", value=1.0, weight=weight),
                               Dirichlet("plain", on="bottom", value=1.0)],
                   residual_weight=lambda c: c["y"] ** 2)

    def f(x):
        return (x[:, :1] * 0.0 + 3.0) + x[:, :1] ** 2  # u = 3 + x^2: error 2 + x^2 on the boundary, u_xx = 2

    c = prob.condition("bc")
    x = c.sample(32, "sobol", np.random.default_rng(0))
    data = c.data(x)
    np.testing.assert_allclose(data["w"], x[:, 0])
    got = float(c.loss(f, jax.tree_util.tree_map(jnp.asarray, data), {}))
    np.testing.assert_allclose(got, np.mean(x[:, 0] * (2.0 + x[:, 0] ** 2) ** 2), rtol=1e-12)
    assert "w" not in prob.condition("plain").data(x)
    from pinngen.pinn.loss import make_loss_terms

    pts = geo.sample_interior(50, method="sobol", rng=np.random.default_rng(1))
    batch = {"pde": {"x": jnp.asarray(pts)}, "bc": jax.tree_util.tree_map(jnp.asarray, data),
             "plain": jax.tree_util.tree_map(jnp.asarray, prob.condition("plain").data(x))}
    model = type("M", (), {"parameter_values": lambda self: {}, "__call__": lambda self, y: f(y)})()
    terms = make_loss_terms(prob)(model, batch)
    np.testing.assert_allclose(float(terms["pde"]), np.mean(pts[:, 1] ** 2 * 4.0), rtol=1e-12)
    bad = Problem(name="b", inputs=("x", "y"), outputs=("u",), geometry=geo, residual=residual,
                  conditions=[Dirichlet("bc", on="top", weight=lambda c: -c["x"])])
    with pytest.raises(ValueError, match="weight must be finite and >= 0"):
        bad.condition("bc").data(x)


def test_cavity_corner_taper_vanishes_at_the_lid_corners_only():
    p = get_problem("cavity", corner_taper=0.1)
    lid = p.condition("lid")
    x = np.array([[0.0, 1.0], [0.05, 1.0], [0.5, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(lid.data(x)["w"], [0.0, 0.5, 1.0, 0.0])
    w = np.asarray(p.residual_weight({"x": jnp.array([0.5, 0.97, 0.5]), "y": jnp.array([0.5, 0.97, 0.95])}))
    np.testing.assert_allclose(w, [1.0, np.hypot(0.03, 0.03) / 0.1, 1.0], rtol=1e-6)
    assert get_problem("cavity").residual_weight is None and get_problem("cavity").condition("lid").weight is None
    with pytest.raises(ValueError, match="corner_taper"):
        get_problem("cavity", corner_taper=-1.0)


def test_cavity_corner_flow_is_a_stokes_flow_with_the_lid_conditions():
    """lid_corner_flow against finite differences of itself (NumPy, float64): divergence-free, and
    nu lap(u) = grad(p) near the lid corners, where each side is ~nu / r^2; u = 1 on the lid, u = v = 0 on the
    side walls."""
    from pinngen.pinn.problems.cavity import lid_corner_flow

    nu, h = 0.01, 1e-4

    def f(x, y):
        return np.stack(lid_corner_flow(np.asarray(x, float), np.asarray(y, float), nu))

    for x0, y0 in [(0.005, 0.995), (0.02, 0.99), (0.01, 0.97), (0.985, 0.99), (0.97, 0.975), (0.5, 0.6)]:
        c = f(x0, y0)
        dx, dy = (f(x0 + h, y0) - f(x0 - h, y0)) / (2 * h), (f(x0, y0 + h) - f(x0, y0 - h)) / (2 * h)
        lap = (f(x0 + h, y0) + f(x0 - h, y0) + f(x0, y0 + h) + f(x0, y0 - h) - 4 * c) / h**2
        r = min(np.hypot(x0, 1 - y0), np.hypot(1 - x0, 1 - y0))
        assert abs(dx[0] + dy[1]) < 1e-3 * (abs(dx[0]) + abs(dy[1])) + 1e-8  # each term up to ~1/r
        stokes = np.array([nu * lap[0] - dx[2], nu * lap[1] - dy[2]])
        terms = np.abs([nu * lap[0], dx[2], nu * lap[1], dy[2]]).max()
        assert np.abs(stokes).max() < 0.3 and (r > 0.1 or terms > 10), (x0, y0, stokes, terms)
    t = np.linspace(0.001, 0.999, 9)
    lid, left, right = f(t, np.ones(9)), f(np.zeros(9), t), f(np.ones(9), t)
    np.testing.assert_allclose(lid[0], 1.0, atol=1e-5)
    np.testing.assert_allclose(lid[1], 0.0, atol=1e-9)
    np.testing.assert_allclose(left[:2], 0.0, atol=1e-5)
    np.testing.assert_allclose(right[:2], 0.0, atol=1e-5)


def test_cavity_corner_flow_option_adds_the_corner_flow_to_the_network():
    from pinngen.pinn.problems.cavity import lid_corner_flow

    plain, with_flow = get_problem("cavity"), get_problem("cavity", corner_flow=True)
    assert plain.transform is None
    pts = np.array([[0.3, 0.9], [0.02, 0.995], [0.99, 0.5]])
    raw = np.array([[0.1, -0.2, 0.3]] * 3)
    out = np.asarray(with_flow.transform({"x": jnp.array(pts[:, 0]), "y": jnp.array(pts[:, 1])}, jnp.array(raw)))
    np.testing.assert_allclose(out - raw, np.stack(lid_corner_flow(pts[:, 0], pts[:, 1], 0.01), axis=1), rtol=1e-5)
