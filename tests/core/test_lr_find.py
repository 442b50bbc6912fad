"""The learning-rate range test against a case whose answer is known in closed form."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.lr_find import lr_find
from pinngen.core.optim import Phase


class Quadratic(eqx.Module):
    w: jnp.ndarray

    def loss_terms(self, batch, key):
        # 0.5 * sum_i a_i w_i^2 with curvatures a_i: gradient descent converges iff lr < 2 / max(a), fastest
        # near lr = 1 / max(a); above 2 / max(a) it diverges.
        return {"q": 0.5 * jnp.sum(batch["a"] * self.w**2)}


@pytest.mark.parametrize("a_max", [10.0, 1000.0])
def test_sgd_suggestion_lies_in_the_stable_fast_range(a_max):
    a = np.geomspace(a_max / 10, a_max, 8).astype(np.float32)
    model = Quadratic(w=jnp.ones(8, jnp.float32))
    res = lr_find(model, {"a": a}, lambda m, b, k: m.loss_terms(b, k), optimizer="sgd", lr_min=1e-6, lr_max=10.0,
                  steps=300)
    # the known answer: well inside the stable range (0, 2/a_max), not orders of magnitude below it
    assert 0.05 / a_max <= res.suggestion < 2.0 / a_max, res.suggestion
    # and the sweep saw the divergence beyond 2 / a_max
    assert res.stopped_at < len(res.lrs) and res.lrs[res.stopped_at] > 1.0 / a_max


def test_range_test_uses_the_loss_weights_and_the_phase_optimizer():
    a = np.full(4, 100.0, np.float32)
    model = Quadratic(w=jnp.ones(4, jnp.float32))
    plain = lr_find(model, {"a": a}, lambda m, b, k: m.loss_terms(b, k), optimizer="sgd", steps=200, lr_min=1e-6)
    heavy = lr_find(model, {"a": a}, lambda m, b, k: m.loss_terms(b, k), phase=Phase(optimizer="sgd"), steps=200,
                    lr_min=1e-6, weights={"q": 10.0})
    # a weight of 10 is a curvature 10 times larger: the suggestion moves down by about that factor
    assert 3.0 < plain.suggestion / heavy.suggestion < 30.0
    np.testing.assert_allclose(heavy.losses[0], 10 * plain.losses[0], rtol=1e-6)
    with pytest.raises(ValueError, match="unknown loss terms"):
        lr_find(model, {"a": a}, lambda m, b, k: m.loss_terms(b, k), weights={"x": 1.0})
    with pytest.raises(ValueError, match="lbfgs"):
        lr_find(model, {"a": a}, lambda m, b, k: m.loss_terms(b, k), optimizer="lbfgs")
