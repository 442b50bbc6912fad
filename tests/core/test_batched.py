"""batched_apply: same result as one call, one compile for every slice, pytrees, keys, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.batched import batched_apply, call_model
from pinngen.core.nn import MLP

TRACES = []


def _traced(scale, x):
    TRACES.append(x.shape)  # runs once per compile (trace), not per call
    return {"y": x * scale, "s": jnp.sum(x, axis=1)}


def _noisy(x, key):
    return x + jax.random.normal(key, x.shape)


def test_matches_one_call_and_compiles_once_for_a_ragged_last_slice():
    net = MLP(in_size=3, out_size=2, hidden=[8], key=jax.random.PRNGKey(0))
    x = np.random.default_rng(0).normal(size=(23, 3)).astype(np.float32)
    out = batched_apply(call_model, x, args=(net,), batch_size=5)
    assert isinstance(out, np.ndarray) and out.shape == (23, 2)
    np.testing.assert_allclose(out, np.asarray(net(jnp.asarray(x))), rtol=1e-6, atol=1e-7)
    TRACES.clear()
    tree = batched_apply(_traced, x, args=(2.0,), batch_size=5)
    np.testing.assert_allclose(tree["y"], 2 * x, rtol=1e-6)
    np.testing.assert_allclose(tree["s"], x.sum(axis=1), rtol=1e-5)
    assert TRACES == [(5, 3)]  # the padded last slice reuses the compile
    batched_apply(_traced, x[:17], args=(2.0,), batch_size=5)
    assert TRACES == [(5, 3)]  # and so does a later call with the same shapes
    batched_apply(_traced, x, args=(2.0,), batch_size=5, pad=False)
    assert TRACES == [(5, 3), (3, 3)]


def test_small_and_empty_inputs_and_dtype():
    x = np.arange(6.0).reshape(3, 2)
    assert batched_apply(call_model, x, args=(lambda v: v + 1,), batch_size=100).shape == (3, 2)
    empty = batched_apply(_traced, np.zeros((0, 2)), args=(1.0,), batch_size=4)
    assert empty["y"].shape == (0, 2) and empty["s"].shape == (0,)
    assert batched_apply(_traced, x, args=(1.0,), batch_size=2, dtype=jnp.float32)["y"].dtype == np.float32


def test_keys_fold_in_the_slice_index():
    x = np.zeros((7, 2), np.float32)
    key = jax.random.PRNGKey(3)
    a = batched_apply(_noisy, x, batch_size=3, key=key)
    b = batched_apply(_noisy, x, batch_size=3, key=key)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a[3:6], np.asarray(jax.random.normal(jax.random.fold_in(key, 1), (3, 2))))
    assert not np.allclose(a[:3], a[3:6])


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True, None])
def test_bad_batch_size_names_the_argument(batch_size):
    with pytest.raises(ValueError, match="batch_size=.* must be a positive integer"):
        batched_apply(call_model, np.zeros((3, 2)), args=(lambda v: v,), batch_size=batch_size)


def test_scalar_input_and_outputs_without_rows_are_refused():
    with pytest.raises(ValueError, match="scalar"):
        batched_apply(call_model, 1.0, args=(lambda v: v,), batch_size=2)
    with pytest.raises(ValueError, match="rows as their first axis"):
        batched_apply(call_model, np.zeros((4, 2)), args=(jnp.sum,), batch_size=2)
