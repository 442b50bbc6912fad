"""Transformers: causality by perturbation, padding independence, cross-attention, gradients, jit."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.sequence.transformer import EncoderDecoder, Transformer

B, T, F = 2, 8, 3


def _x(seed, shape=(B, T, F)):
    return jax.random.normal(jax.random.PRNGKey(seed), shape)


@pytest.mark.parametrize("positions", ["sinusoidal", "learned", "rotary"])
def test_causal_output_at_t_does_not_depend_on_later_inputs(positions):
    model = Transformer(in_size=F, out_size=2, dim=16, heads=2, layers=2, positions=positions, max_len=T,
                        causal=True, key=jax.random.PRNGKey(0))
    x = _x(1)
    y = model(x)
    t0 = 5
    y2 = model(x.at[:, t0].add(3.0))  # perturb step t0 only
    np.testing.assert_allclose(y2[:, :t0], y[:, :t0], rtol=1e-5, atol=1e-6)
    assert np.max(np.abs(y2[:, t0:] - y[:, t0:])) > 1e-3
    _, maps = model(x, return_attention=True)
    assert len(maps) == 2 and maps[0].shape == (B, 2, T, T)
    np.testing.assert_allclose(np.sum(maps[1], -1), 1.0, rtol=1e-5)
    assert np.all(np.triu(np.ones((T, T)), 1)[None, None] * np.asarray(maps[0]) == 0)


def test_an_encoder_sees_the_future_and_ignores_padding():
    model = Transformer(in_size=F, out_size=2, dim=16, heads=4, layers=2, key=jax.random.PRNGKey(2))
    x = _x(3)
    y = model(x)
    assert np.max(np.abs(model(x.at[:, -1].add(3.0))[:, 0] - y[:, 0])) > 1e-3  # bidirectional context
    valid = jnp.arange(T)[None, :] < jnp.array([[5], [8]])
    ya = model(x, valid)
    yb = model(jnp.where(valid[..., None], x, 50.0), valid)  # change only the padded steps
    np.testing.assert_allclose(ya[0, :5], yb[0, :5], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ya[1], yb[1], rtol=1e-5, atol=1e-5)


def test_token_inputs():
    model = Transformer(vocab_size=11, out_size=11, dim=8, heads=2, layers=1, causal=True,
                        positions="rotary", key=jax.random.PRNGKey(4))
    tokens = jnp.array([[1, 2, 3, 4], [5, 6, 7, 10]])
    assert model(tokens).shape == (2, 4, 11)


def test_encoder_decoder_cross_attention_causality_and_source_padding():
    model = EncoderDecoder(src_in=F, tgt_in=2, out_size=4, dim=16, heads=2, encoder_layers=2, decoder_layers=2,
                           key=jax.random.PRNGKey(5))
    src, tgt = _x(6), _x(7, (B, 5, 2))
    src_valid = jnp.arange(T)[None, :] < jnp.array([[6], [8]])
    y, maps = model(src, tgt, src_valid=src_valid, return_attention=True)
    assert y.shape == (B, 5, 4)
    cross = np.asarray(maps["cross"][0])  # (B, heads, 5, T)
    assert cross.shape == (B, 2, 5, T)
    np.testing.assert_allclose(cross.sum(-1), 1.0, rtol=1e-5)
    assert np.all(cross[0, :, :, 6:] == 0.0)  # padded source steps get no attention
    y_pad = model(jnp.where(src_valid[..., None], src, -40.0), tgt, src_valid=src_valid)
    np.testing.assert_allclose(y_pad, y, rtol=1e-5, atol=1e-5)
    y_future = model(src, tgt.at[:, 3].add(2.0), src_valid=src_valid)
    np.testing.assert_allclose(y_future[:, :3], y[:, :3], rtol=1e-5, atol=1e-6)
    assert np.max(np.abs(model(src.at[:, 1].add(2.0), tgt, src_valid=src_valid) - y)) > 1e-3


def _all_gradients_reach(model, loss):
    grads = eqx.filter_jit(eqx.filter_grad(loss))(model)
    for path, g in jax.tree_util.tree_leaves_with_path(grads):
        assert np.all(np.isfinite(g)) and np.any(g != 0), jax.tree_util.keystr(path)


def test_gradients_reach_every_parameter_under_jit():
    model = Transformer(in_size=F, out_size=2, dim=8, heads=2, layers=1, positions="learned", max_len=T,
                        causal=True, key=jax.random.PRNGKey(8))  # learned: the position table gets gradient
    x = _x(9)
    _all_gradients_reach(model, lambda m: jnp.mean(m(x) ** 2))
    ed = EncoderDecoder(src_in=F, tgt_in=F, out_size=2, dim=8, heads=2, encoder_layers=1, decoder_layers=1,
                        positions="rotary", key=jax.random.PRNGKey(10))
    _all_gradients_reach(ed, lambda m: jnp.mean(m(x, x[:, :4]) ** 2))


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(ValueError, match="positions='absolute'"):
        Transformer(in_size=2, out_size=1, positions="absolute", key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="exactly one of in_size"):
        Transformer(out_size=1, key=jax.random.PRNGKey(0))
