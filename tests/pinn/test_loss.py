"""PINN loss: causal weights per their formula, and tiny forward / inverse trainings of make_loss_terms
through the one training loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.train import fit
from pinngen.pinn.collocation import Collocation, CollocationSpec
from pinngen.pinn.loss import causal_loss, causal_weights, make_loss_terms, slice_losses
from pinngen.pinn.network import PINN
from pinngen.pinn.problem import unknown
from pinngen.pinn.weighting import Causal


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


def test_causal_needs_a_time_input(poisson_1d):
    with pytest.raises(ValueError, match="causal weighting needs a time input"):
        make_loss_terms(poisson_1d(), Causal())


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


def test_tiny_forward_training_reaches_small_error(poisson_1d):
    prob = poisson_1d()
    model, hist = _train(prob, 300, 200)
    x = np.linspace(0, 1, 101)[:, None]
    u = np.asarray(model(jnp.asarray(x, jnp.float32)))[:, 0]
    err = np.linalg.norm(u - np.sin(np.pi * x[:, 0])) / np.linalg.norm(np.sin(np.pi * x[:, 0]))
    assert err < 1e-2, err
    assert hist.last("loss") < 1e-3


def test_tiny_inverse_problem_recovers_k(poisson_1d):
    k_true = 2.0
    obs = np.linspace(0.05, 0.95, 20)
    prob = poisson_1d(k_true, observe=obs, unknown_k=unknown(1.5, transform="positive", true=k_true))
    model, hist = _train(prob, 400, 300)
    k = float(model.unknown_values()["k"])
    assert abs(k - k_true) / k_true < 0.03, k
    assert "unknown/k" in hist.columns
