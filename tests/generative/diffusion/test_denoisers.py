"""Denoiser networks: shapes, zero start, conditioning, the two convolution paths, and the layers against NumPy.

References are written here independently of the library code: GroupNorm and attention in NumPy from their
definitions, the convolution gradients from JAX's own autodiff of ``lax.conv``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinngen.core.nn import Conv2d, count_params
from pinngen.core.nn.attention import SelfAttention, attention
from pinngen.core.nn.conv_lax import conv2d_nhwc
from pinngen.core.nn.norm import GroupNorm, group_norm
from pinngen.generative.diffusion.denoisers import TimeMLP, UNet, timestep_embedding

TINY = dict(channels=(8, 16), attention_levels=(), groups=4, time_dim=16)  # the middle block still attends


def _perturb(model, name, key):
    """The model with its (zero-initialised) output layer set to random weights."""
    w = getattr(model, name).weight
    return eqx.tree_at(lambda m: getattr(m, name).weight, model, 0.3 * jax.random.normal(key, w.shape))


@eqx.filter_jit
def _apply(model, x, t, y=None):
    return model(x, t, y)


# ----------------------------------------------------------------------------------------------- U-Net
@pytest.mark.parametrize("shape, kwargs", [
    ((28, 28, 1), dict(TINY, attention_levels=(1,))),  # attention at 14x14
    ((32, 32, 3), TINY),
    ((13, 11, 2), dict(TINY, channels=(8, 8, 16))),  # 13x11 -> 7x6 -> 4x3 and back: crops align the skips
])
def test_unet_shapes_and_zero_start(shape, kwargs):
    model = UNet(shape, key=jax.random.PRNGKey(0), **kwargs)
    x = jax.random.normal(jax.random.PRNGKey(1), (3, *shape))
    t = jnp.array([0, 10, 999])
    hot = _perturb(model, "conv_out", jax.random.PRNGKey(2))
    out = _apply(model, x, t)
    assert out.shape == x.shape and out.dtype == jnp.float32
    assert float(jnp.abs(out).max()) == 0.0  # zero-initialised conv_out: training starts from a zero prediction
    out_hot = _apply(hot, x, t)  # same structure: no new compilation
    assert bool(jnp.all(jnp.isfinite(out_hot))) and float(jnp.abs(out_hot).max()) > 0


def test_unet_default_size():
    # the ddpm-fashion layout: 28 -> 14 -> 7, attention at 7x7, ~1.1 M parameters like the diffusers peer
    assert 1_000_000 < count_params(UNet((28, 28, 1), key=jax.random.PRNGKey(0))) < 1_200_000


def test_unet_conditioning_and_dropout():
    model = _perturb(UNet((8, 8, 1), num_classes=3, dropout=0.5, key=jax.random.PRNGKey(0), **TINY),
                     "conv_out", jax.random.PRNGKey(1))
    x = jnp.broadcast_to(jax.random.normal(jax.random.PRNGKey(2), (1, 8, 8, 1)), (4, 8, 8, 1))
    t, y = jnp.array([5, 700, 5, 5]), jnp.array([0, 0, 2, 3])

    @eqx.filter_jit
    def run(m):
        return m(x, t, y), m(x, t), m(x, t, y, key=jax.random.PRNGKey(5)), m(x, t, y, key=jax.random.PRNGKey(6))

    a, none, d5, d6 = run(model)
    assert float(jnp.abs(a[0] - a[1]).max()) > 1e-3  # time matters
    assert float(jnp.abs(a[0] - a[2]).max()) > 1e-3  # the label matters
    np.testing.assert_array_equal(np.asarray(none[3]), np.asarray(a[3]))  # y=None is the null label (3)
    assert float(jnp.abs(d5 - d6).max()) > 0 and float(jnp.abs(d5 - a).max()) > 0  # dropout only with a key


def test_unet_paths_and_split_agree():
    # same key, same weights: the lax path in 4 pieces, in one piece, and the im2col path give one function
    # (the gradients of the two paths are compared layer by layer in the conv tests)
    nets = [_perturb(UNet((9, 8, 2), conv=c, split=sp, key=jax.random.PRNGKey(0), **TINY), "conv_out",
                     jax.random.PRNGKey(1)) for c, sp in (("lax", 4), ("lax", 1), ("im2col", 1))]
    x = jax.random.normal(jax.random.PRNGKey(2), (4, 9, 8, 2))
    t = jnp.array([1, 50, 900, 999])
    a, b, c = (np.asarray(_apply(n, x, t)) for n in nets)
    assert np.abs(c).max() > 0.1
    for got in (a, b):
        np.testing.assert_allclose(got, c, rtol=1e-5, atol=1e-5 * np.abs(c).max())


def test_unet_tiny_overfits_one_batch():
    model = UNet((8, 8, 1), key=jax.random.PRNGKey(0), split=1, **dict(TINY, channels=(8, 8)))
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 8, 8, 1))
    target = jax.random.normal(jax.random.PRNGKey(2), x.shape)
    t = jnp.arange(8) * 100
    opt = optax.adam(3e-3)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def loss(p):
        return jnp.mean(jnp.square(eqx.combine(p, static)(x, t) - target))

    @jax.jit
    def run(p):
        def step(carry, _):
            p, s = carry
            val, g = jax.value_and_grad(loss)(p)
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), val
        return jax.lax.scan(step, (p, opt.init(p)), None, length=200)[1]

    losses = np.asarray(run(params))
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0] / 10, (losses[0], losses[-1])


@pytest.mark.parametrize("kwargs, match", [
    (dict(image_shape=(28, 28)), "image_shape"),
    (dict(channels=(12, 16), groups=8), "multiple of groups"),
    (dict(attention_levels=(3,)), "attention_levels"),
    (dict(conv="nchw"), "conv="),
    (dict(split=0), "split"),
    (dict(dropout=1.0), "dropout"),
    (dict(num_classes=0), "num_classes"),
])
def test_unet_bad_arguments(kwargs, match):
    kwargs = {"image_shape": (8, 8, 1), **TINY, **kwargs}
    with pytest.raises(ValueError, match=match):
        UNet(kwargs.pop("image_shape"), key=jax.random.PRNGKey(0), **kwargs)


def test_unet_bad_inputs():
    model = UNet((8, 8, 1), key=jax.random.PRNGKey(0), **TINY)
    with pytest.raises(ValueError, match=r"channels-last"):
        model(jnp.ones((2, 1, 8, 8)), jnp.array([0, 1]))
    with pytest.raises(ValueError, match="num_classes"):
        model(jnp.ones((2, 8, 8, 1)), jnp.array([0, 1]), jnp.array([0, 1]))


# ------------------------------------------------------------------------------------------- time MLP
def test_time_mlp_shapes_zero_start_conditioning_and_fit():
    model = TimeMLP(2, hidden=(32, 32), time_dim=16, num_classes=4, key=jax.random.PRNGKey(0))
    x = jax.random.normal(jax.random.PRNGKey(1), (6, 2))
    t = jnp.array([0, 1, 2, 500, 998, 999])
    assert model(x, t).shape == (6, 2) and float(jnp.abs(model(x, t)).max()) == 0.0
    hot = _perturb(model, "out", jax.random.PRNGKey(2))
    same = jnp.zeros((2, 2))
    assert float(jnp.abs(jnp.diff(hot(same, jnp.array([3, 600])), axis=0)).max()) > 1e-3
    assert float(jnp.abs(jnp.diff(hot(same, jnp.array([3, 3]), jnp.array([0, 1])), axis=0)).max()) > 1e-3
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        model(jnp.ones((3, 3)), t[:3])
    with pytest.raises(ValueError, match="hidden"):
        TimeMLP(2, hidden=(), key=jax.random.PRNGKey(0))
    # fits a fixed batch (the MLP learns a time-dependent map)
    target = jax.random.normal(jax.random.PRNGKey(3), x.shape)
    opt = optax.adam(1e-2)

    @jax.jit
    def run(m):
        def step(carry, _):
            m, s = carry
            val, g = eqx.filter_value_and_grad(lambda m: jnp.mean(jnp.square(m(x, t, None) - target)))(m)
            u, s = opt.update(g, s, m)
            return (eqx.apply_updates(m, u), s), val
        return jax.lax.scan(step, (m, opt.init(m)), None, length=200)[1]

    losses = np.asarray(run(TimeMLP(2, hidden=(32, 32), time_dim=16, key=jax.random.PRNGKey(0))))
    assert losses[-1] < losses[0] / 10


def test_timestep_embedding_matches_formula():
    t = np.array([0, 1, 17, 999])
    got = np.asarray(timestep_embedding(jnp.asarray(t), 6))
    freqs = 10_000.0 ** (-np.arange(3) / 3)
    want = np.concatenate([np.cos(t[:, None] * freqs), np.sin(t[:, None] * freqs)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    assert timestep_embedding(jnp.asarray(t), 7).shape == (4, 7)


# ------------------------------------------------------------------------------------------ the layers
def test_group_norm_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, (3, 5, 4, 12)).astype(np.float32)
    scale, shift = rng.normal(size=12).astype(np.float32), rng.normal(size=12).astype(np.float32)
    g = x.astype(np.float64).reshape(3, 20, 4, 3)  # 4 groups of 3 channels
    mean = g.mean(axis=(1, 3), keepdims=True)
    var = g.var(axis=(1, 3), keepdims=True)
    want = ((g - mean) / np.sqrt(var + 1e-5)).reshape(x.shape) * scale + shift
    np.testing.assert_allclose(np.asarray(group_norm(jnp.asarray(x), 4, scale, shift)), want, atol=2e-5)
    layer = GroupNorm(4, 12)
    want_plain = ((g - mean) / np.sqrt(var + 1e-5)).reshape(x.shape)
    np.testing.assert_allclose(np.asarray(layer(jnp.asarray(x))), want_plain, atol=2e-5)
    with pytest.raises(ValueError, match="multiple of"):
        GroupNorm(5, 12)


def test_self_attention_matches_numpy():
    rng = np.random.default_rng(1)
    n, length, dim, heads = 2, 5, 8, 2
    x = rng.normal(size=(n, length, dim)).astype(np.float32)
    layer = SelfAttention(dim, heads, key=jax.random.PRNGKey(0))
    wqkv, bqkv = np.asarray(layer.qkv.weight, np.float64), np.asarray(layer.qkv.bias, np.float64)
    wo, bo = np.asarray(layer.out.weight, np.float64), np.asarray(layer.out.bias, np.float64)
    d = dim // heads
    out = np.zeros((n, length, dim))
    for b in range(n):
        qkv = x[b] @ wqkv.T + bqkv  # (L, 3 dim), laid out [q | k | v], each split into heads
        q, k, v = qkv[:, :dim], qkv[:, dim:2 * dim], qkv[:, 2 * dim:]
        heads_out = []
        for h in range(heads):
            s = q[:, h * d:(h + 1) * d] @ k[:, h * d:(h + 1) * d].T / np.sqrt(d)
            p = np.exp(s - s.max(axis=1, keepdims=True))
            heads_out.append((p / p.sum(axis=1, keepdims=True)) @ v[:, h * d:(h + 1) * d])
        out[b] = np.concatenate(heads_out, axis=1) @ wo.T + bo
    np.testing.assert_allclose(np.asarray(layer(jnp.asarray(x))), out, atol=1e-5)
    # a causal mask: the first position attends only to itself, so its output is its own value
    q = jnp.asarray(rng.normal(size=(1, 1, 4, 3)), jnp.float32)
    kk, vv = q + 1.0, jnp.asarray(rng.normal(size=(1, 1, 4, 3)), jnp.float32)
    masked = attention(q, kk, vv, jnp.tril(jnp.ones((4, 4), bool)))
    np.testing.assert_allclose(np.asarray(masked[0, 0, 0]), np.asarray(vv[0, 0, 0]), atol=1e-6)


@pytest.mark.parametrize("h, w, c_in, c_out, stride", [(7, 7, 3, 5, 1), (8, 6, 2, 4, 2), (7, 9, 4, 3, 2)])
def test_conv2d_paths_match_lax_autodiff(h, w, c_in, c_out, stride):
    conv = Conv2d(c_in, c_out, 3, stride, key=jax.random.PRNGKey(0))
    conv = eqx.tree_at(lambda c: c.bias, conv, jax.random.normal(jax.random.PRNGKey(1), (c_out,)))
    x = jax.random.normal(jax.random.PRNGKey(2), (3, h, w, c_in))

    def ref(x, c):  # JAX's own rule for lax.conv
        y = jax.lax.conv_general_dilated(x, c.weight, (stride, stride), ((1, 1), (1, 1)),
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return y + c.bias

    @jax.jit
    def all_vjps(x, c):
        outs = []
        for f in (ref, lambda x, c: conv2d_nhwc(x, c.weight, c.bias, c.stride), lambda x, c: c(x)):
            y, vjp = jax.vjp(f, x, c)
            outs.append((y, vjp(jnp.cos(3.0 * y))))
        return outs

    (y_ref, g_ref), *others = all_vjps(x, conv)
    assert y_ref.shape == (3, -(-h // stride), -(-w // stride), c_out)
    for y, g in others:  # conv2d_nhwc (custom backward), then Conv2d (im2col)
        np.testing.assert_allclose(np.asarray(y), np.asarray(y_ref), atol=1e-5)
        for got, want in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(g_ref), strict=True):
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-4)


def test_time_mlp_reads_small_images_flattened():
    net = TimeMLP(12, hidden=(8,), time_dim=8, zero_init_output=False, key=jax.random.PRNGKey(0))
    x = jax.random.normal(jax.random.PRNGKey(1), (5, 2, 3, 2))
    t = jnp.arange(5)
    out = net(x, t)
    assert out.shape == x.shape
    np.testing.assert_allclose(np.asarray(out).reshape(5, 12), np.asarray(net(x.reshape(5, 12), t)), atol=1e-6)
    with pytest.raises(ValueError, match="12 values per sample"):
        net(jnp.zeros((5, 2, 2, 2)), t)
