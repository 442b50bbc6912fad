"""Solver: collocation, causal weights and gradient-norm balancing per their formulas, RAR through
refresh, and tiny forward / inverse trainings through the one training loop."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.train import fit
from pinngen.pinn.conditions import Dirichlet, Observations
from pinngen.pinn.geometry import Interval
from pinngen.pinn.network import PINN
from pinngen.pinn.problem import Problem, unknown
from pinngen.pinn.problems import get_problem
from pinngen.pinn.solver import (
    RESIDUAL,
    Adaptive,
    Causal,
    Collocation,
    CollocationSpec,
    WeightingSpec,
    _grad_stats,
    balanced_weights,
    causal_loss,
    causal_weights,
    first_order_steps,
    make_loss_terms,
    make_refresh,
    make_weight_update,
    slice_losses,
)


def test_causal_weights_formula():
    L = jnp.array([0.5, 0.2, 1.0, 0.1])
    w = causal_weights(L, eps=2.0)
    want = np.exp(-2.0 * np.array([0.0, 0.5, 0.7, 1.7]))
    np.testing.assert_allclose(w, want, rtol=1e-6)
    # the weights are constants for the gradient: d/dL of sum(w * L) is w
    g = jax.grad(lambda L: jnp.sum(causal_weights(L, 2.0) * L))(L)
    np.testing.assert_allclose(g, want, rtol=1e-6)


def test_slice_losses_and_causal_loss():
    t = jnp.array([0.05, 0.1, 0.3, 0.6, 0.95, 1.0])
    r2 = jnp.array([1.0, 3.0, 2.0, 4.0, 6.0, 8.0])
    L = slice_losses(r2, t, 0.0, 1.0, 4)  # slices [0, .25), [.25, .5), [.5, .75), [.75, 1]
    np.testing.assert_allclose(L, [2.0, 2.0, 4.0, 7.0])
    loss, w = causal_loss(r2, t, 0.0, 1.0, Causal(eps=0.1, n_slices=4))
    np.testing.assert_allclose(w, np.exp(-0.1 * np.array([0.0, 2.0, 4.0, 8.0])), rtol=1e-6)
    assert float(loss) == pytest.approx(float(np.mean(np.asarray(w) * np.array([2.0, 2.0, 4.0, 7.0]))), rel=1e-6)


def test_lr_annealing_and_grad_norm_formulas():
    stats = {"pde": (4.0, 1.0, 10.0), "bc": (0.5, 0.1, 2.0), "ic": (1.0, 0.4, 3.0), RESIDUAL: (4.0, 1.0, 10.0)}
    w = balanced_weights(stats, {"pde": 1.0, "bc": 1.0, "ic": 2.0}, scheme="lr_annealing", alpha=0.9,
                         anchor=("pde",))
    assert w["pde"] == 1.0  # the residual is the reference
    assert w["bc"] == pytest.approx(0.1 * 1.0 + 0.9 * 4.0 / 0.1)  # hat = max|grad L_r| / mean|grad L_bc|
    assert w["ic"] == pytest.approx(0.1 * 2.0 + 0.9 * 4.0 / 0.4)
    g = balanced_weights(stats, {"pde": 1.0, "bc": 1.0, "ic": 1.0}, scheme="grad_norm", alpha=1.0, anchor=("pde",))
    assert g["bc"] == pytest.approx(15.0 / 2.0) and g["pde"] == pytest.approx(1.5)


def _poisson_1d(k=np.pi, *, observe=None, unknown_k=None):
    """u'' = -k^2 sin(k x) on [0, 1], u(0) = 0, u(1) = sin(k); exact u = sin(k x)."""
    params = {"k": unknown_k if unknown_k is not None else k}
    conds = [Dirichlet("bc", on="boundary", value=lambda c: jnp.sin(k * c["x"]))]
    if observe is not None:
        conds.append(Observations("data", points=observe[:, None], values=np.sin(k * observe)))

    def residual(d, p):
        return d["u_xx"] + p["k"] ** 2 * jnp.sin(p["k"] * d.coords["x"])

    return Problem(name="poisson1d", inputs=("x",), outputs=("u",), geometry=Interval(0.0, 1.0), residual=residual,
                   parameters=params, conditions=conds)


def test_grad_stats_match_per_term_gradients():
    prob = _poisson_1d()
    model = PINN(prob, hidden=[8], key=jax.random.PRNGKey(0))
    batch = jax.tree_util.tree_map(jnp.asarray, Collocation(prob, CollocationSpec(n_domain=32, n_boundary=2)).batch())
    lt = make_loss_terms(prob)
    stats = jax.device_get(_grad_stats(lt, ("pde",))(model, batch))
    g = eqx.filter_grad(lambda m: lt(m, batch, None)["bc"])(model)
    flat = jnp.concatenate([jnp.ravel(v) for v in jax.tree_util.tree_leaves(g)])
    assert float(stats["bc"][0]) == pytest.approx(float(jnp.max(jnp.abs(flat))), rel=1e-5)
    assert float(stats["bc"][2]) == pytest.approx(float(jnp.linalg.norm(flat)), rel=1e-5)
    update = make_weight_update(lt, WeightingSpec(scheme="lr_annealing"), anchor=("pde",))
    w = update(model, batch, {"pde": 1.0, "bc": 1.0}, 0)
    assert w["pde"] == 1.0 and w["bc"] > 0 and w["bc"] != 1.0
    assert make_weight_update(lt, WeightingSpec(), anchor=("pde",)) is None


def test_collocation_fixed_sizes_and_reproducible():
    prob = get_problem("burgers")
    col = Collocation(prob, CollocationSpec(n_domain=300, n_boundary=40, n_initial=50))
    b0, b0again, b1 = col.batch(0), col.batch(0), col.batch(1)
    assert b0["pde"]["x"].shape == (300, 2) and b0["bc"]["x"].shape == (40, 2) and b0["ic"]["x"].shape == (50, 2)
    np.testing.assert_array_equal(b0["pde"]["x"], b0again["pde"]["x"])
    assert not np.array_equal(b0["pde"]["x"], b1["pde"]["x"]) and b1["pde"]["x"].shape == (300, 2)
    assert np.all(np.abs(np.abs(b0["bc"]["x"][:, 0]) - 1) < 1e-12) and np.all(b0["ic"]["x"][:, 1] == 0)


def test_rar_refresh_adds_points_near_the_residual_peak():
    # residual = -source when the network is zero: a narrow bump at x = 0.3
    def residual(d, p):
        return d["u_xx"] - jnp.exp(-(((d.coords["x"] - 0.3) / 0.02) ** 2))

    prob = Problem(name="bump", inputs=("x",), outputs=("u",), geometry=Interval(0.0, 1.0), residual=residual,
                   conditions=[Dirichlet("bc")])
    model = PINN(prob, hidden=[4], key=jax.random.PRNGKey(0))
    model = eqx.tree_at(lambda m: m.net.layers[-1].weight, model, jnp.zeros_like(model.net.layers[-1].weight))
    spec = CollocationSpec(n_domain=200, n_boundary=2, adaptive=Adaptive(method="rar", every=100, n_candidates=2000,
                                                                         n_points=20, capacity=40))
    col = Collocation(prob, spec)
    refresh = make_refresh(col)
    assert refresh(0, None, model) is None
    batch = refresh(100, None, model)
    added = batch["pde"]["x"][160:180, 0]
    assert np.all(np.abs(added - 0.3) < 0.05)
    assert batch["pde"]["x"].shape == (200, 1)
    before = np.array(batch["pde"]["x"])
    assert refresh(150, None, model) is None  # same round: keep the batch
    batch2 = refresh(200, None, model)  # second round fills the next slots, keeps the first ones
    np.testing.assert_array_equal(batch2["pde"]["x"][160:180], before[160:180])
    assert np.all(np.abs(batch2["pde"]["x"][180:200, 0] - 0.3) < 0.05)


def test_rad_and_resampling_refresh_keep_shapes_and_skip_lbfgs():
    prob = get_problem("heat")
    model = PINN(prob, hidden=[4], key=jax.random.PRNGKey(0))
    from pinngen.core.optim import Phase

    active = first_order_steps([Phase(optimizer="adam", steps=300), Phase(optimizer="lbfgs", steps=100)])
    spec = CollocationSpec(n_domain=100, n_boundary=10, n_initial=10, resample_every=100,
                           adaptive=Adaptive(method="rad", every=200, n_candidates=500))
    refresh = make_refresh(Collocation(prob, spec), active=active)
    b1 = refresh(100, None, model)
    b2 = refresh(200, None, model)
    assert b1["pde"]["x"].shape == b2["pde"]["x"].shape == (100, 2)
    assert not np.array_equal(b1["pde"]["x"], b2["pde"]["x"])
    assert refresh(300, None, model) is None  # L-BFGS phase: the objective stays fixed


def _train(prob, steps_adam, steps_lbfgs, n_domain=64, seed=0):
    model = PINN(prob, hidden=[16, 16], key=jax.random.PRNGKey(seed))
    col = Collocation(prob, CollocationSpec(n_domain=n_domain, n_boundary=2, method="sobol"))
    trace = None
    if prob.unknowns:
        def trace(m):
            return {f"unknown/{k}": v for k, v in m.unknown_values().items()}
    cfg = {"phases": [{"optimizer": "adam", "steps": steps_adam, "lr": 0.01},
                      {"optimizer": "lbfgs", "steps": steps_lbfgs}], "eval_every": 100, "progress": False}
    return fit(model, col.batch(0), cfg, loss_terms=make_loss_terms(prob), trace_fn=trace, seed=seed)


def test_tiny_forward_training_reaches_small_error():
    prob = _poisson_1d()
    model, hist = _train(prob, 300, 200)
    x = np.linspace(0, 1, 101)[:, None]
    u = np.asarray(model(jnp.asarray(x, jnp.float32)))[:, 0]
    err = np.linalg.norm(u - np.sin(np.pi * x[:, 0])) / np.linalg.norm(np.sin(np.pi * x[:, 0]))
    assert err < 1e-2, err
    assert hist.last("loss") < 1e-3


def test_tiny_inverse_problem_recovers_k():
    k_true = 2.0
    obs = np.linspace(0.05, 0.95, 20)
    prob = _poisson_1d(k_true, observe=obs, unknown_k=unknown(1.5, transform="positive", true=k_true))
    model, hist = _train(prob, 400, 300)
    k = float(model.unknown_values()["k"])
    assert abs(k - k_true) / k_true < 0.03, k
    assert "unknown/k" in hist.columns
