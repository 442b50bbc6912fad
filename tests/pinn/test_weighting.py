"""Loss weighting: gradient-norm balancing per its formulas, and gradient statistics against per-term
gradients."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

from pinngen.pinn.collocation import Collocation, CollocationSpec
from pinngen.pinn.loss import make_loss_terms
from pinngen.pinn.network import PINN
from pinngen.pinn.weighting import RESIDUAL, WeightingSpec, _grad_stats, balanced_weights, make_weight_update


def test_lr_annealing_and_grad_norm_formulas():
    stats = {"pde": (4.0, 1.0, 10.0), "bc": (0.5, 0.1, 2.0), "ic": (1.0, 0.4, 3.0), RESIDUAL: (4.0, 1.0, 10.0)}
    w = balanced_weights(stats, {"pde": 1.0, "bc": 1.0, "ic": 2.0}, scheme="lr_annealing", alpha=0.9,
                         anchor=("pde",))
    assert w["pde"] == 1.0  # the residual is the reference
    assert w["bc"] == pytest.approx(0.1 * 1.0 + 0.9 * 4.0 / 0.1)  # hat = max|grad L_r| / mean|grad L_bc|
    assert w["ic"] == pytest.approx(0.1 * 2.0 + 0.9 * 4.0 / 0.4)
    g = balanced_weights(stats, {"pde": 1.0, "bc": 1.0, "ic": 1.0}, scheme="grad_norm", alpha=1.0, anchor=("pde",))
    assert g["bc"] == pytest.approx(15.0 / 2.0) and g["pde"] == pytest.approx(1.5)
    with pytest.raises(ValueError, match="scheme='fixed'"):
        balanced_weights(stats, {}, scheme="fixed", alpha=1.0, anchor=("pde",))


def test_grad_stats_match_per_term_gradients(poisson_1d):
    prob = poisson_1d()
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
