"""A phase's loss_transform (sqrt / log of the weighted total): the gradient it follows, what History records,
a tiny PINN trained with it, and bad values.

References are independent of the code: jax.grad of a hand-written loss on the same parameters.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from pydantic import ValidationError

from pinngen.core.nn import MLP
from pinngen.core.optim import Group, Phase
from pinngen.core.train import TrainConfig, fit
from pinngen.core.updaters import make_updater


def _net():
    return MLP(in_size=1, out_size=1, hidden=[6], activation="tanh", key=jax.random.PRNGKey(0), dtype=jnp.float64)


def _data():
    x = np.linspace(-1, 1, 32)[:, None]
    return {"x": jnp.asarray(x), "y": jnp.asarray(np.sin(3 * x))}


def _terms(model, batch, key):
    pred = model(batch["x"])
    return {"fit": ((pred - batch["y"]) ** 2).mean(), "small": 1e-3 * (pred**2).mean()}


def _hand_loss(model, batch):
    """The weighted total (weights fit: 1, small: 2), written out again."""
    pred = model(batch["x"])
    return ((pred - batch["y"]) ** 2).mean() + 2.0 * 1e-3 * (pred**2).mean()


@pytest.mark.parametrize("kind", ["sqrt", "log"])
def test_one_sgd_step_follows_the_gradient_of_the_transformed_loss(kind):
    with jax.enable_x64(True):
        model, data = _net(), _data()
        params, static = eqx.partition(model, eqx.is_inexact_array)
        weights = {"fit": jnp.float64(1.0), "small": jnp.float64(2.0)}
        up = make_updater(Phase(optimizer="sgd", lr=1.0, loss_transform=kind), loss_terms=_terms, static=static,
                          names=("fit", "small"), params=params, dtype=jnp.float64)
        new, _, logs = up.step(params, up.init(params), data, None, weights, 0)
        step = jax.tree_util.tree_map(lambda a, b: a - b, params, new)  # = lr * gradient followed

        def L(p):
            return _hand_loss(eqx.combine(p, static), data)

        value, g = L(params), jax.grad(L)(params)
        scale = 1.0 / (2.0 * jnp.sqrt(value)) if kind == "sqrt" else 1.0 / value
        for a, b in zip(jax.tree_util.tree_leaves(step), jax.tree_util.tree_leaves(g), strict=True):
            np.testing.assert_allclose(a, b * scale, rtol=1e-10, atol=1e-15)
        # what is logged is L itself and the gradient norm of L
        np.testing.assert_allclose(logs["loss"], value, rtol=1e-12)
        gnorm = np.sqrt(sum(float(jnp.sum(x**2)) for x in jax.tree_util.tree_leaves(g)))
        np.testing.assert_allclose(logs["grad_norm"], gnorm, rtol=1e-10)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs", "bfgs", "ssbfgs", "ssbroyden"])
def test_recorded_loss_is_untransformed(optimizer):
    with jax.enable_x64(True):
        runs = {}
        for kind in ("none", "sqrt", "log"):
            cfg = TrainConfig(phases=[dict(optimizer=optimizer, steps=12, lr=1e-2, loss_transform=kind)],
                              eval_every=4, progress=False)
            runs[kind] = fit(_net(), _data(), cfg, loss_terms=_terms, weights={"small": 2.0}, seed=3)
        base = runs["none"].history
        for kind in ("sqrt", "log"):
            h = runs[kind].history
            np.testing.assert_allclose(h.column("loss")[0], base.column("loss")[0], rtol=1e-12)
            for term in ("fit", "small"):
                np.testing.assert_allclose(h.column(f"loss/{term}")[0], base.column(f"loss/{term}")[0], rtol=1e-12)
            np.testing.assert_allclose(h.column("grad_norm")[0], base.column("grad_norm")[0], rtol=1e-9)
            loss = h.column("loss")
            assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]  # it trains, on the L scale
            # the recorded total is the weighted sum of the recorded terms (L, not sqrt L or log L)
            fit_t, small = h.column("loss/fit"), h.column("loss/small")
            ok = np.isfinite(fit_t)
            np.testing.assert_allclose(loss[ok], fit_t[ok] + 2.0 * small[ok], rtol=1e-9)


def _poisson_1d():
    """u'' = -pi^2 sin(pi x) on [0, 1], u(0) = u(1) = 0; exact u = sin(pi x)."""
    from pinngen.pinn.conditions import Dirichlet
    from pinngen.pinn.geometry import Interval
    from pinngen.pinn.problem import Problem

    def residual(d, p):
        return d["u_xx"] + jnp.pi**2 * jnp.sin(jnp.pi * d.coords["x"])

    return Problem(name="poisson1d", inputs=("x",), outputs=("u",), geometry=Interval(0.0, 1.0),
                   residual=residual, conditions=[Dirichlet("bc", on="boundary", value=lambda c: 0.0 * c["x"])])


@pytest.mark.parametrize("optimizer", ["lbfgs", "ssbfgs"])
def test_tiny_pinn_with_a_log_quasi_newton_phase_reaches_small_error(optimizer):
    from pinngen.pinn.collocation import Collocation, CollocationSpec
    from pinngen.pinn.loss import make_loss_terms
    from pinngen.pinn.network import PINN

    with jax.enable_x64(True):
        prob = _poisson_1d()
        model = PINN(prob, hidden=[10, 10], key=jax.random.PRNGKey(0), dtype=jnp.float64)
        col = Collocation(prob, CollocationSpec(n_domain=64, n_boundary=2), dtype=np.float64)
        cfg = {"phases": [{"optimizer": "adam", "steps": 200, "lr": 0.01},
                          {"optimizer": optimizer, "steps": 300, "loss_transform": "log"}],
               "eval_every": 100, "progress": False}
        model, hist = fit(model, col.batch(0), cfg, loss_terms=make_loss_terms(prob), seed=0)
        x = np.linspace(0, 1, 201)[:, None]
        u = np.asarray(model(jnp.asarray(x)))[:, 0]
    exact = np.sin(np.pi * x[:, 0])
    err = np.linalg.norm(u - exact) / np.linalg.norm(exact)
    assert err < 1e-3, err
    loss = hist.column("loss")
    assert loss[-1] < 1e-5 and loss[-1] < loss[199] * 1e-2  # recorded on the L scale


def test_bad_loss_transform_is_one_line():
    with pytest.raises(ValidationError) as err:
        Phase(optimizer="lbfgs", loss_transform="square")
    assert "loss_transform" in str(err.value) and "'sqrt'" in str(err.value)
    with pytest.raises(ValueError, match="not to parameter groups"):
        Phase(groups={"g": Group(terms=["a"])}, loss_transform="log")


def test_bad_loss_transform_from_the_cli_is_one_line(tmp_path, capsys):
    from pinngen.cli import main

    assert main(["run", "burgers", "--out", str(tmp_path / "b"), "--no-progress", "--set",
                 "train.phases.1.loss_transform=cube"]) == 2
    err = capsys.readouterr().err.strip()
    assert "loss_transform" in err and "sqrt" in err and len(err.splitlines()) == 1, err
