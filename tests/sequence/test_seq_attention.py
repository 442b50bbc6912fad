"""Attention against a NumPy reference, masks, and position encodings (rotary: scores depend on the offset)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.sequence.attention import (
    LearnedPositions,
    MultiHeadAttention,
    apply_rotary,
    causal_mask,
    padding_mask,
    scaled_dot_product,
    sinusoidal,
)


def _np_attention(q, k, v, mask=None):
    """Reference scaled dot-product attention in float64 NumPy: softmax(q k^T / sqrt(d)) v, per head."""
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    if mask is not None:
        e = np.where(mask, e, 0.0)
    w = e / e.sum(-1, keepdims=True)
    return w @ v, w


def _qkv(seed, b=2, h=3, lq=5, lk=6, d=4):
    ks = jax.random.split(jax.random.PRNGKey(seed), 3)
    return (jax.random.normal(ks[0], (b, h, lq, d)), jax.random.normal(ks[1], (b, h, lk, d)),
            jax.random.normal(ks[2], (b, h, lk, d)))


def test_scaled_dot_product_matches_numpy_with_and_without_a_mask():
    q, k, v = _qkv(0)
    out, w = scaled_dot_product(q, k, v)
    ro, rw = _np_attention(q, k, v)
    np.testing.assert_allclose(out, ro, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w, rw, rtol=1e-5, atol=1e-6)
    mask = padding_mask(jnp.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]], bool))
    out, w = scaled_dot_product(q, k, v, mask)
    ro, rw = _np_attention(q, k, v, np.asarray(mask))
    np.testing.assert_allclose(out, ro, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w, rw, rtol=1e-5, atol=1e-6)


def test_rows_sum_to_one_and_masked_positions_get_exactly_zero_weight():
    q, k, v = _qkv(1, lq=6, lk=6)
    mask = causal_mask(6)[None, None] & padding_mask(jnp.array([[1, 1, 1, 1, 0, 0], [1] * 6], bool))
    _, w = scaled_dot_product(q, k, v, mask)
    np.testing.assert_allclose(np.sum(w, -1), 1.0, rtol=1e-6)
    assert np.all(np.asarray(w)[~np.broadcast_to(np.asarray(mask), w.shape)] == 0.0)
    _, w0 = scaled_dot_product(q, k, v, jnp.zeros((6, 6), bool))  # no allowed key: zeros, not padding
    assert np.all(np.asarray(w0) == 0.0)


def test_causal_mask_is_lower_triangular():
    np.testing.assert_array_equal(causal_mask(4), np.tril(np.ones((4, 4), bool)))


def test_multi_head_attention_matches_per_head_numpy_reference():
    dim, heads, b, length = 8, 2, 2, 5
    mha = MultiHeadAttention(dim, heads, key=jax.random.PRNGKey(2))
    x = jax.random.normal(jax.random.PRNGKey(3), (b, length, dim))
    out, w = mha(x)
    xx = np.asarray(x, np.float64)

    def lin(d):
        return xx @ np.asarray(d.weight, np.float64).T + np.asarray(d.bias, np.float64)

    def split(y):
        return y.reshape(b, length, heads, dim // heads).transpose(0, 2, 1, 3)

    ro, rw = _np_attention(split(lin(mha.W_q)), split(lin(mha.W_k)), split(lin(mha.W_v)))
    merged = ro.transpose(0, 2, 1, 3).reshape(b, length, dim)
    ref = merged @ np.asarray(mha.W_o.weight, np.float64).T + np.asarray(mha.W_o.bias, np.float64)
    assert w.shape == (b, heads, length, length)
    np.testing.assert_allclose(w, rw, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_cross_attention_shapes():
    mha = MultiHeadAttention(8, 4, kv_dim=6, key=jax.random.PRNGKey(4))
    out, w = mha(jnp.ones((2, 3, 8)), jnp.ones((2, 7, 6)))
    assert out.shape == (2, 3, 8) and w.shape == (2, 4, 3, 7)


def test_rotary_scores_depend_only_on_the_offset():
    d, length = 8, 9
    q = jax.random.normal(jax.random.PRNGKey(5), (d,))
    k = jax.random.normal(jax.random.PRNGKey(6), (d,))
    qs = apply_rotary(jnp.tile(q, (length, 1)))  # the same query at every position
    ks = apply_rotary(jnp.tile(k, (length, 1)))
    s = np.asarray(qs @ ks.T)  # s[m, n] = <R_m q, R_n k>
    for off in range(-length + 1, length):
        diag = np.diagonal(s, offset=off)
        np.testing.assert_allclose(diag, diag[0], rtol=1e-4, atol=1e-4)
    assert not np.allclose(np.diagonal(s, 0)[0], np.diagonal(s, 3)[0])  # the offset does matter
    np.testing.assert_allclose(np.linalg.norm(qs, axis=-1), np.linalg.norm(q), rtol=1e-5)  # rotations
    np.testing.assert_allclose(qs[0], q, rtol=1e-6)  # position 0 is not rotated


def test_sinusoidal_matches_the_formula():
    pe = np.asarray(sinusoidal(6, 10))
    for t in (0, 3, 5):
        for i in range(5):
            angle = t / 10000 ** (2 * i / 10)
            np.testing.assert_allclose(pe[t, 2 * i], math.sin(angle), atol=1e-6)
            np.testing.assert_allclose(pe[t, 2 * i + 1], math.cos(angle), atol=1e-6)


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(ValueError, match="multiple of heads"):
        MultiHeadAttention(10, 3, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="even head width"):
        MultiHeadAttention(6, 2, rotary=True, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="max_len=4"):
        LearnedPositions(4, 2, key=jax.random.PRNGKey(0))(5)
