import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.nn import (
    MLP,
    Conv2d,
    ConvDecoder,
    ConvEncoder,
    FourierFeatures,
    PeriodicEmbedding,
    count_params,
    trainable_filter,
)


def test_mlp_shapes_params_and_summary():
    m = MLP(in_size=3, out_size=1, hidden=[10, 10], activation="relu", key=jax.random.PRNGKey(0))
    assert m(jnp.ones((7, 3))).shape == (7, 1)
    assert m(jnp.ones((3,))).shape == (1,)
    assert m.n_params() == (3 * 10 + 10) + (10 * 10 + 10) + (10 + 1) == count_params(m)
    s = m.summary()
    assert "Total params: 161" in s and "relu" in s and "Dense_2" in s


def test_matmul_network_equals_manual_computation():
    m = MLP(in_size=2, out_size=2, hidden=[4], activation="tanh", output_activation="sigmoid",
            key=jax.random.PRNGKey(1))
    x = jnp.array([[0.3, -0.2]])
    l0, l1 = m.layers
    manual = jax.nn.sigmoid(jnp.tanh(x @ l0.weight.T + l0.bias) @ l1.weight.T + l1.bias)
    np.testing.assert_allclose(m(x), manual, rtol=1e-6)
    np.testing.assert_allclose(m(x, raw=True), jax.scipy.special.logit(manual), rtol=1e-4)


def test_sparse_mask_keeps_zero_weights_and_counts_only_connections():
    mask = np.zeros((4, 2), bool)
    mask[:, 0] = True
    m = MLP(in_size=2, out_size=1, hidden=[4], masks=[mask, None], key=jax.random.PRNGKey(0))
    assert m.layers[0].n_params() == 4 + 4
    g = eqx.filter_grad(lambda mm: jnp.sum(mm(jnp.ones((1, 2)))))(m)
    # The masked input never influences the output.
    y1 = m(jnp.array([[0.5, 0.0]]))
    y2 = m(jnp.array([[0.5, 9.0]]))
    np.testing.assert_allclose(y1, y2)
    assert np.all(np.asarray(g.layers[0].weight)[:, 1] == 0)
    assert not np.any(np.asarray(trainable_filter(m).layers[0].mask is True))


def test_dropout_only_with_key():
    m = MLP(in_size=2, out_size=1, hidden=[64], dropout=0.5, key=jax.random.PRNGKey(0))
    x = jnp.ones((5, 2))
    np.testing.assert_allclose(m(x), m(x))
    assert not np.allclose(m(x, key=jax.random.PRNGKey(1)), m(x, key=jax.random.PRNGKey(2)))


@pytest.mark.parametrize("kw,match", [
    (dict(activation="relux"), "activation='relux'"),
    (dict(init="bogus"), "init='bogus'"),
    (dict(dropout=1.0), "dropout=1.0"),
    (dict(hidden=[0]), "hidden"),
])
def test_bad_hyperparameters_name_the_argument(kw, match):
    args = dict(in_size=1, out_size=1, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=match):
        MLP(**{**args, **kw})


def test_fourier_features_are_frozen():
    ff = FourierFeatures(in_size=2, n_features=8, sigma=1.0, key=jax.random.PRNGKey(0))
    assert ff(jnp.ones((3, 2))).shape == (3, 16)
    assert not any(jax.tree_util.tree_leaves(trainable_filter(ff)))


def test_periodic_embedding_is_exactly_periodic():
    pe = PeriodicEmbedding(in_size=2, dims=[0], periods=[2.0], n_harmonics=2)
    x = jnp.array([[-1.0, 0.3], [1.0, 0.3]])
    y = pe(x)
    assert y.shape == (2, pe.out_size) == (2, 5)
    np.testing.assert_allclose(y[0], y[1], atol=1e-6)


def test_conv_blocks_shapes_and_torch_like_sizes():
    key = jax.random.PRNGKey(0)
    shape = jax.eval_shape(Conv2d(1, 4, 3, 2, key=key), jax.ShapeDtypeStruct((2, 7, 7, 1), jnp.float32)).shape
    assert shape == (2, 4, 4, 4)  # ceil(7 / 2), as torch's Conv2d(3, stride=2, padding=1)
    enc = ConvEncoder((3, 7, 9), 5, (4, 6), key=key)
    dec = ConvDecoder((3, 7, 9), 5, (6, 4), key=key, output_activation="sigmoid")
    z, y = eqx.filter_jit(lambda e, d, x: (e(x), d(e(x))))(enc, dec, jnp.ones((2, 3, 7, 9)))
    assert z.shape == (2, 5) and y.shape == (2, 3, 7, 9)
    with pytest.raises(ValueError, match="kernel"):
        Conv2d(1, 1, 2, key=key)


def test_conv2d_matches_lax_conv():
    key1, key2 = jax.random.split(jax.random.PRNGKey(0))
    conv = Conv2d(3, 4, 3, 2, key=key1)
    x = jax.random.normal(key2, (2, 9, 8, 3))
    ref = jax.lax.conv_general_dilated(x, conv.weight, (2, 2), ((1, 1), (1, 1)),
                                       dimension_numbers=("NHWC", "HWIO", "NHWC")) + conv.bias
    np.testing.assert_allclose(np.asarray(eqx.filter_jit(conv)(x)), np.asarray(ref), rtol=1e-5, atol=1e-5)
