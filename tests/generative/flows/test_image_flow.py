"""The multi-scale image flow: every layer and the whole flow invert, their log-determinants equal a brute-force
Jacobian, the identity-like start matches the base density, bits/dim, actnorm initialisation, training, sampling.

References are independent of the code under test: log|det J| from ``jax.jacrev`` of the flattened map and
``slogdet`` (reverse mode, because the convolution has a custom VJP and no forward-mode rule), the
identity-start density from NumPy, bits/dim by hand.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinngen.core.nn import trainable_filter
from pinngen.generative.flows.image import (
    bits_per_dim,
    build_image_flow,
    dequantize,
    initialize,
    inversion_error,
)
from pinngen.generative.flows.image_layers import ActNorm, AffineCoupling, InvConv1x1, Logit, squeeze, unsqueeze

TINY = dict(levels=2, steps_per_level=2, hidden=8)


def _perturb(model, key, scale=0.2):
    """Every trainable array plus N(0, scale^2) noise: zero-initialised layers stop being the identity."""
    params, static = eqx.partition(model, trainable_filter(model))
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(key, len(leaves))
    noisy = [a + scale * jax.random.normal(k, a.shape, a.dtype) for a, k in zip(leaves, keys, strict=True)]
    return eqx.combine(jax.tree_util.tree_unflatten(tree, noisy), static)


# Jitted once per model structure: eager op-by-op dispatch made this file 4x slower.
_fwd = eqx.filter_jit(lambda m, x: m.transform_and_log_det(x))
_inv = eqx.filter_jit(lambda m, y: m.inverse_and_log_det(y))


@eqx.filter_jit
def _jacobian(layer, x):
    return jax.jacrev(lambda v: layer.transform_and_log_det(v.reshape(x.shape))[0].reshape(-1))(x.reshape(-1))


def _brute_log_det(layer, x):
    """log|det J| of ``layer``'s transform at one image ``x`` (1, H, W, C), from the dense Jacobian."""
    return float(np.linalg.slogdet(np.asarray(_jacobian(layer, x), np.float64))[1])


def _images(key, shape, n=1):
    return dequantize(key, jax.random.uniform(jax.random.fold_in(key, 1), (n, *shape)))


def _check_bijection(layer, x, tol=2e-3):
    y, ld = _fwd(layer, x)
    back, ld_inv = _inv(layer, y)
    np.testing.assert_allclose(back, x, atol=2e-5)
    np.testing.assert_allclose(ld_inv, -ld, rtol=1e-5, atol=1e-4)
    ref = _brute_log_det(layer, x)
    assert abs(float(ld[0]) - ref) < tol * max(1.0, abs(ref)), (float(ld[0]), ref)
    return y


def test_squeeze_is_a_permutation_and_inverts():
    x = jnp.arange(2 * 4 * 6 * 3, dtype=jnp.float32).reshape(2, 4, 6, 3)
    y = squeeze(x)
    assert y.shape == (2, 2, 3, 12)
    np.testing.assert_array_equal(unsqueeze(y), x)
    np.testing.assert_array_equal(np.sort(np.asarray(y).ravel()), np.asarray(x).ravel())
    # channel (2a + b) C + c of pixel (i, j) is input pixel (2i + a, 2j + b), channel c
    assert y[1, 1, 2, (2 * 1 + 0) * 3 + 2] == x[1, 3, 4, 2]
    with pytest.raises(ValueError, match="even"):
        squeeze(jnp.zeros((1, 3, 4, 1)))


@pytest.mark.parametrize("make", [
    lambda k: Logit(0.05),
    lambda k: Logit(None),
    lambda k: _perturb(ActNorm(3), k, 0.5),
    lambda k: _perturb(InvConv1x1(3, key=k), k, 0.3),
    lambda k: _perturb(AffineCoupling(3, 8, key=k), k, 0.3),
    lambda k: _perturb(AffineCoupling(4, 0, key=k), k, 0.3),
], ids=["logit", "shift", "actnorm", "invconv", "coupling", "prior-coupling"])
def test_layer_inverts_and_log_det_matches_jacobian(make):
    key = jax.random.PRNGKey(3)
    layer = make(key)
    channels = 4 if isinstance(layer, AffineCoupling) and layer.split == 2 else 3
    x = _images(jax.random.PRNGKey(4), (4, 4, channels))
    if not isinstance(layer, Logit):
        x = 2.0 * x - 1.0  # the inner layers see real-valued inputs
    _check_bijection(layer, x)


def test_invconv_weight_is_its_lu_product_and_starts_orthogonal():
    conv = InvConv1x1(5, key=jax.random.PRNGKey(0))
    w = np.asarray(conv.weight(), np.float64)
    np.testing.assert_allclose(w @ w.T, np.eye(5), atol=1e-5)  # a rotation at the start: log|det| = 0
    assert abs(float(jnp.sum(conv.log_s))) < 1e-5
    moved = _perturb(conv, jax.random.PRNGKey(1), 0.3)
    np.testing.assert_allclose(np.sum(np.asarray(moved.log_s)), np.linalg.slogdet(np.asarray(moved.weight()))[1],
                               atol=1e-4)
    np.testing.assert_array_equal(moved.perm.value, conv.perm.value)  # Frozen: the perturbation skips it


@pytest.mark.parametrize("shape,cfg", [((8, 8, 1), dict(TINY)),
                                       ((4, 4, 2), dict(TINY, steps_per_level=1, split_prior=False, logit_alpha=None))])
def test_whole_flow_inverts_and_log_det_matches_jacobian(shape, cfg):
    flow = _perturb(build_image_flow(shape, cfg, jax.random.PRNGKey(0)), jax.random.PRNGKey(1), 0.1)
    x = _images(jax.random.PRNGKey(2), shape, n=3)
    z, ld = _fwd(flow, x)
    assert z.shape == (3, math.prod(shape))
    back, ld_inv = _inv(flow, z)
    np.testing.assert_allclose(back, x, atol=1e-4)
    np.testing.assert_allclose(ld_inv, -ld, rtol=1e-4, atol=1e-3)
    ref = _brute_log_det(flow, x[:1])
    assert abs(float(ld[0]) - ref) < 2e-3 * max(1.0, abs(ref)), (float(ld[0]), ref)


@pytest.mark.parametrize("alpha", [0.05, None])
def test_log_prob_at_initialisation_is_the_base_density_of_the_pre_transform(alpha):
    # Fresh flow: actnorms and couplings are the identity, every 1x1 convolution a rotation, squeezes and the
    # factor-out permutations, so log p(x) = log N(pre(x); 0, I) + log|det pre'(x)|, computed here in NumPy.
    shape = (8, 8, 1)
    flow = build_image_flow(shape, dict(TINY, logit_alpha=alpha), jax.random.PRNGKey(0))
    x = np.asarray(_images(jax.random.PRNGKey(5), shape, n=4), np.float64)
    if alpha is None:
        y, log_det = x - 0.5, 0.0
    else:
        s = alpha + (1 - 2 * alpha) * x
        y = np.log(s / (1 - s))
        log_det = np.sum(np.log((1 - 2 * alpha) / (s * (1 - s))), axis=(1, 2, 3))
    ref = -0.5 * np.sum(y**2, axis=(1, 2, 3)) - 0.5 * y[0].size * np.log(2 * np.pi) + log_det
    np.testing.assert_allclose(np.asarray(flow.log_prob(jnp.asarray(x, jnp.float32))), ref, rtol=1e-5, atol=2e-3)


def test_bits_per_dim_by_hand():
    assert bits_per_dim(0.0, (28, 28, 1)) == pytest.approx(8.0, abs=1e-12)  # uniform on [0, 1]^D
    assert bits_per_dim(100.0, (2, 2, 1)) == pytest.approx((100.0 + 4 * np.log(256.0)) / (4 * np.log(2.0)))
    # 17 levels: a uniform density is log2(17) bits per pixel
    assert bits_per_dim(0.0, (8, 8), levels=17) == pytest.approx(np.log2(17.0))
    out = bits_per_dim(np.array([0.0, -4 * np.log(2.0)]), (4,))
    np.testing.assert_allclose(out, [8.0, 7.0])


def test_dequantize_fills_each_level_cell():
    k = np.arange(256)
    x = np.tile(k / 255.0, 40)
    y = np.asarray(dequantize(jax.random.PRNGKey(0), x))
    kk = np.tile(k, 40)
    assert np.all(y >= kk / 256.0) and np.all(y < (kk + 1) / 256.0)
    assert 0.4 < np.mean(y * 256.0 - kk) < 0.6


def test_actnorm_initialisation_standardises_every_actnorm_input():
    shape = (8, 8, 1)
    x = _images(jax.random.PRNGKey(0), shape, n=64)
    flow = initialize(build_image_flow(shape, TINY, jax.random.PRNGKey(1)), x)
    h, _ = flow.pre.transform_and_log_det(x)
    for level, stacked in enumerate(flow.steps):
        h = squeeze(h)
        for k in range(2):
            step = jax.tree_util.tree_map(lambda a, k=k: a[k] if eqx.is_array(a) else a, stacked)
            out, _ = _fwd(step.actnorm, h)
            np.testing.assert_allclose(np.mean(np.asarray(out), axis=(0, 1, 2)), 0.0, atol=1e-4)
            np.testing.assert_allclose(np.std(np.asarray(out), axis=(0, 1, 2)), 1.0, atol=1e-3)
            h, _ = _fwd(step, h)
        if level == 0:
            h = _fwd(flow.priors[0], h)[0][..., : h.shape[-1] // 2]
    assert float(jnp.max(jnp.abs(flow.steps[0].actnorm.log_scale))) > 0.1  # it moved
    assert np.isfinite(np.asarray(flow.log_prob(x))).all()


def test_training_lowers_the_nll_of_a_tiny_image_set():
    # 8x8 images: a bright square at one of 4 places on a dark background, 256 levels.
    rng = np.random.default_rng(0)
    imgs = np.zeros((64, 8, 8, 1), np.float32)
    for i, c in enumerate(rng.integers(0, 4, 64)):
        r, q = divmod(int(c), 2)
        imgs[i, 4 * r:4 * r + 3, 4 * q:4 * q + 3, 0] = 200 / 255
    imgs += np.round(rng.uniform(0, 20, imgs.shape)) / 255
    data = jnp.asarray(np.clip(imgs, 0, 1))
    flow = build_image_flow((8, 8, 1), TINY, jax.random.PRNGKey(0))
    flow = initialize(flow, dequantize(jax.random.PRNGKey(1), data))
    params, static = eqx.partition(flow, trainable_filter(flow))
    opt = optax.adam(3e-3)

    @jax.jit
    def step(params, state, key):
        def loss(p):
            return eqx.combine(p, static).loss_terms({"x": data}, key)["bpd"]
        value, grads = jax.value_and_grad(loss)(params)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    state, first = opt.init(params), None
    for i in range(100):
        params, state, value = step(params, state, jax.random.PRNGKey(i))
        first = float(value) if first is None else first
    trained = eqx.combine(params, static)
    after = float(trained.loss_terms({"x": data}, None)["bpd"])
    before = float(flow.loss_terms({"x": data}, None)["bpd"])
    assert np.isfinite(after) and after < before - 1.0, (before, after)
    # the loss term is the bits/dim of the flow's own log_prob
    lp = trained.log_prob(dequantize(jax.random.PRNGKey(0), data))
    assert after == pytest.approx(float(np.mean(bits_per_dim(-np.asarray(lp), (8, 8, 1)))), rel=1e-4)
    assert inversion_error(trained, data[:16]) < 1e-3


def test_sample_shapes_range_and_temperature():
    shape = (8, 8, 1)
    flow = _perturb(build_image_flow(shape, TINY, jax.random.PRNGKey(0)), jax.random.PRNGKey(1), 0.1)
    sample = eqx.filter_jit(lambda m, key, t: m.sample(key, 32, t))  # one compile: t traced
    s = sample(flow, jax.random.PRNGKey(2), jnp.float32(1.0))
    assert s.shape == (32, *shape) and float(s.min()) >= 0.0 and float(s.max()) <= 1.0
    cold_a = sample(flow, jax.random.PRNGKey(3), jnp.float32(0.0))
    cold_b = sample(flow, jax.random.PRNGKey(4), jnp.float32(0.0))
    zero_image = jnp.clip(_inv(flow, jnp.zeros((1, 64)))[0], 0, 1)
    np.testing.assert_allclose(cold_a, cold_b)
    np.testing.assert_allclose(cold_a, jnp.broadcast_to(zero_image, cold_a.shape), atol=1e-6)
    # a lower temperature keeps samples closer to the zero latent's image
    spread = [float(jnp.mean(jnp.abs(sample(flow, jax.random.PRNGKey(5), jnp.float32(t)) - zero_image)))
              for t in (0.3, 1.0)]
    assert spread[0] < spread[1]
    with pytest.raises(ValueError, match="temperature"):
        flow.sample(jax.random.PRNGKey(0), 1, temperature=-1.0)


def test_bad_configuration_and_inputs_fail_in_one_line():
    with pytest.raises(ValueError, match="unknown"):
        build_image_flow((8, 8, 1), dict(depth=3), jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="divide by"):
        build_image_flow((28, 28, 1), dict(levels=3), jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="alpha"):
        build_image_flow((8, 8, 1), dict(logit_alpha=0.7), jax.random.PRNGKey(0))
    flow = build_image_flow((4, 4, 1), dict(levels=1, steps_per_level=1, hidden=4), jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="this flow takes"):
        flow.log_prob(jnp.zeros((2, 4, 4, 3)))
    with pytest.raises(ValueError, match="latent"):
        flow.inverse_and_log_det(jnp.zeros((2, 5)))
