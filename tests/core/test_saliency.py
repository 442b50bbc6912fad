"""Saliency and integrated gradients (completeness, exactness for linear functions, target checks)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.nn import MLP
from pinngen.core.saliency import integrated_gradients, saliency


def _classifier(seed=0):
    net = MLP(in_size=64, out_size=10, hidden=[16], activation="tanh", output_activation="softmax",
              key=jax.random.PRNGKey(seed))
    return lambda x: net(x.reshape(x.shape[0], -1))  # (n, 8, 8) -> (n, 10)


def _x(n=3):
    return jnp.asarray(np.random.default_rng(0).uniform(0, 1, (n, 8, 8)), jnp.float32)


def test_saliency_shape_and_linear_case():
    f = _classifier()
    s = saliency(f, _x())
    assert s.shape == (3, 8, 8) and float(s.min()) >= 0
    w = jnp.asarray(np.random.default_rng(1).normal(size=(8, 8)), jnp.float32)
    lin = saliency(lambda x: jnp.sum(x * w, axis=(1, 2)), _x(), absolute=False)
    np.testing.assert_allclose(np.asarray(lin), np.broadcast_to(np.asarray(w), (3, 8, 8)), rtol=1e-6)


def test_integrated_gradients_completeness_for_a_classifier():
    f = _classifier()
    ig = integrated_gradients(f, _x(), steps=64)
    assert ig.attributions.shape == (3, 8, 8)
    delta = ig.f_x - ig.f_baseline
    assert float(jnp.max(jnp.abs(ig.gap))) < 1e-3 * max(float(jnp.max(jnp.abs(delta))), 1e-3) + 1e-5
    # the explained output is the predicted class at x
    np.testing.assert_allclose(np.asarray(ig.f_x), np.asarray(jnp.max(f(_x()), axis=1)), rtol=1e-6)


def test_integrated_gradients_exact_for_linear_and_explicit_targets():
    w = jnp.asarray(np.random.default_rng(2).normal(size=(64, 2)), jnp.float32)

    def f(x):
        return x.reshape(x.shape[0], -1) @ w  # (n, 2)

    x, base = _x(), jnp.full((3, 8, 8), 0.5)
    ig = integrated_gradients(f, x, baseline=base, target=1, steps=2)
    np.testing.assert_allclose(np.asarray(ig.attributions), np.asarray((x - base) * w[:, 1].reshape(8, 8)),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="out of range"):
        integrated_gradients(f, x, target=2)
    with pytest.raises(ValueError, match="target=None"):
        saliency(lambda x: jnp.sum(x, axis=(1, 2)), x, target=0)
