"""The curated ``pinngen.sequence`` API: every advertised name resolves, and the docstring's recipe runs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinngen.sequence as seq


@pytest.mark.parametrize("name", seq.__all__)
def test_every_name_resolves(name):
    assert getattr(seq, name) is not None


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'LSTMM'"):
        seq.LSTMM  # noqa: B018


def test_docstring_recipe_shapes():
    key = jax.random.PRNGKey(0)
    x = jnp.ones((2, 7, 1))
    hs, last, gates = seq.recur(seq.LSTMCell(1, 32, key=key), x, return_gates=True)
    assert hs.shape == (2, 7, 32) and gates["forget"].shape == (2, 7, 32)
    assert np.all((np.asarray(gates["forget"]) > 0) & (np.asarray(gates["forget"]) < 1))
    attn = seq.MultiHeadAttention(64, heads=4, key=key)
    out, weights = attn(jnp.ones((2, 7, 64)), mask=seq.causal_mask(7))
    assert out.shape == (2, 7, 64) and weights.shape == (2, 4, 7, 7)
    np.testing.assert_allclose(np.asarray(weights).sum(-1), 1.0, atol=1e-5)
    assert float(jnp.max(jnp.triu(weights[0, 0], 1))) == 0.0  # causal: no weight on the future
