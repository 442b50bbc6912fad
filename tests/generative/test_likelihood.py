"""Observation models, bounds and the histogram baseline against hand computations and quadrature."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from pinngen.generative import likelihood as L
from pinngen.generative import vae as V


@pytest.mark.parametrize("loc,log_scale", [(0.3, -2.0), (-5.0, -7.0), (1.7, 3.0), (0.5, -7.0), (0.0, -4.0)])
def test_discretized_logistic_is_a_distribution_over_the_levels(loc, log_scale):
    levels = 17
    pix = jnp.arange(levels, dtype=jnp.float32)[:, None]  # (levels, 1): one pixel, every value
    lp = L.discretized_logistic_log_prob(jnp.full((levels, 1), loc), jnp.full((levels, 1), log_scale), pix, levels)
    assert np.all(np.isfinite(lp))
    np.testing.assert_allclose(float(jnp.sum(jnp.exp(lp))), 1.0, atol=1e-5)
    # an interior bin equals the difference of logistic CDFs computed naively (in float64)
    k, s, h = 5, math.exp(log_scale), 0.5 / (levels - 1)
    c = k / (levels - 1)
    naive = stats.logistic.cdf((c + h - loc) / s) - stats.logistic.cdf((c - h - loc) / s)
    if naive > 1e-30:
        np.testing.assert_allclose(float(lp[k]), math.log(naive), rtol=1e-4, atol=1e-5)


def test_gaussian_and_bernoulli_log_probs_match_references():
    rng = np.random.default_rng(0)
    mean, log_var = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    pixels, u = rng.integers(0, 256, size=(3, 5)).astype(float), rng.uniform(size=(3, 5))
    y = (pixels + u) / 256
    ref = stats.norm.logpdf(y, mean, np.exp(0.5 * log_var)).sum(-1) - 5 * math.log(256)
    got = L.dequantized_gaussian_log_prob(jnp.asarray(mean), jnp.asarray(log_var), jnp.asarray(pixels),
                                          jnp.asarray(u), 256)
    np.testing.assert_allclose(got, ref, rtol=1e-5)
    logits, t = jnp.array([[-3.0, 0.2, 4.0]]), jnp.array([[0.0, 0.5, 1.0]])
    p = jax.nn.sigmoid(logits)
    np.testing.assert_allclose(L.bernoulli_log_prob(logits, t), jnp.sum(t * jnp.log(p) + (1 - t) * jnp.log1p(-p), -1),
                               rtol=1e-5)
    assert np.isfinite(float(L.bernoulli_log_prob(jnp.array([[100.0, -100.0]]), jnp.array([[0.0, 1.0]]))[0]))


def test_log_mean_exp_is_stable_and_bits_per_dim_converts():
    a = jnp.array([[1000.0], [1000.0 + math.log(3.0)]])
    np.testing.assert_allclose(float(L.log_mean_exp(a, axis=0)[0]), 1000.0 + math.log(2.0), rtol=1e-6)
    assert np.isfinite(float(L.log_mean_exp(jnp.array([-1e4, -1e4 - 1.0]))))
    assert L.bits_per_dim(784 * math.log(2.0), 784) == pytest.approx(1.0)
    assert L.bits_per_dim(784 * math.log(256.0), 784) == pytest.approx(8.0)  # uniform over 256 levels


def test_histogram_baseline_against_a_hand_computation():
    train = np.array([[0, 1], [0, 2]])  # 2 images, 2 pixels, 3 levels
    h = L.PixelHistogram(levels=3).fit(train)
    # add-one: pixel 0 counts (2, 0, 0) -> (3, 1, 1) / 5; pixel 1 counts (0, 1, 1) -> (1, 2, 2) / 5
    test = np.array([[0, 1], [2, 0]])
    expect = np.array([math.log(3 / 5) + math.log(2 / 5), math.log(1 / 5) + math.log(1 / 5)])
    np.testing.assert_allclose(h.log_prob(test), expect)
    assert h.bits_per_dim(test) == pytest.approx(-expect.mean() / (2 * math.log(2)))
    base = L.histogram_baseline(train, test, levels=3)
    assert base["nll_nats"] == pytest.approx(-expect.mean())
    with pytest.raises(ValueError, match="integer levels"):
        h.log_prob(test / 2.0)
    with pytest.raises(ValueError, match="0..2"):
        h.log_prob(np.array([[0, 3]]))


def _tiny_model():
    # one latent unit, so log p(x) is a 1-D integral that quadrature gets to many digits
    return V.VAE(image_shape=(2, 2), latent_dim=1, hidden=(8,), levels=4, activation="tanh",
                 key=jax.random.PRNGKey(3))


def _exact_log_px(model, pixels):
    z = jnp.linspace(-12.0, 12.0, 4001)[:, None]  # (grid, 1)
    params = V.decoder_params(model, z)
    flat = jnp.broadcast_to(pixels.reshape(1, -1), (len(z), 4))
    logj = L.discretized_logistic_log_prob(params["loc"], params["log_scale"], flat, 4)
    logj = logj - 0.5 * (z[:, 0] ** 2 + math.log(2 * math.pi))
    return float(jax.scipy.special.logsumexp(logj) + math.log(float(z[1, 0] - z[0, 0])))


def test_importance_bound_orders_exact_likelihood_iwae_and_elbo():
    model = _tiny_model()
    pixels = jnp.array([[3.0, 0.0], [1.0, 2.0]])
    exact = _exact_log_px(model, pixels)
    x = jnp.broadcast_to(pixels / 3.0, (400, 2, 2))  # 400 independent estimates of one image
    est = {}
    for k in (1, 10, 100):
        b = L.likelihood_bounds(model, x, jax.random.PRNGKey(k), k=k, batch_size=200)
        assert np.all(b.neg_iwae <= b.neg_elbo + 1e-9)  # Jensen, per image
        est[k] = (-b.neg_iwae.mean(), b.neg_iwae.std() / math.sqrt(len(x)), -b.neg_elbo.mean())
    np.testing.assert_allclose(est[1][0], est[1][2], rtol=1e-6)  # IWAE_1 is the ELBO
    assert est[1][0] < est[10][0] < est[100][0]  # non-decreasing in k (here strictly, on average)
    for k, (iwae, sem, _) in est.items():
        assert iwae <= exact + 3 * sem, f"IWAE_{k} = {iwae} above log p(x) = {exact}"
    assert exact - est[100][0] < 0.5 * (exact - est[1][0])  # and it closes in on log p(x)


def test_log_prob_elbo_and_iwae_agree_with_the_bounds():
    model = _tiny_model()
    x = jnp.array([[[1.0, 0.0], [1 / 3, 2 / 3]]] * 3)
    lp_iwae = V.log_prob(model, x, jax.random.PRNGKey(0), k=50)
    lp_elbo = V.log_prob(model, x, jax.random.PRNGKey(0), k=50, bound="elbo")
    assert lp_iwae.shape == (3,) and np.all(lp_iwae >= lp_elbo)
    with pytest.raises(ValueError, match="bound"):
        V.log_prob(model, x, jax.random.PRNGKey(0), bound="exact")
