"""GAN loss terms against hand-written formulas; the minimax generator saturates, the non-saturating one does not;
the R1 penalty against closed forms."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.generative import gan_losses as L
from pinngen.generative.gan import GAN, MLPDiscriminator, MLPGenerator

REAL = np.array([2.0, 0.5, -1.0, 3.0], np.float32)
FAKE = np.array([-3.0, 0.2, 1.5, -0.5], np.float32)


def _sig(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def test_discriminator_terms_match_the_log_likelihood_and_hinge_formulas():
    for loss in ("minimax", "non_saturating"):  # -log D(x), -log(1 - D(G(z)))
        d_real, d_fake = L.discriminator_terms(loss, jnp.asarray(REAL), jnp.asarray(FAKE))
        np.testing.assert_allclose(d_real, np.mean(-np.log(_sig(REAL))), rtol=1e-5)
        np.testing.assert_allclose(d_fake, np.mean(-np.log(1.0 - _sig(FAKE))), rtol=1e-5)
    d_real, d_fake = L.discriminator_terms("hinge", jnp.asarray(REAL), jnp.asarray(FAKE))
    np.testing.assert_allclose(d_real, (0.0 + 0.5 + 2.0 + 0.0) / 4, rtol=1e-6)  # max(0, 1 - l)
    np.testing.assert_allclose(d_fake, (0.0 + 1.2 + 2.5 + 0.5) / 4, rtol=1e-6)  # max(0, 1 + l)


def test_generator_terms_match_their_formulas():
    f = jnp.asarray(FAKE)
    np.testing.assert_allclose(L.generator_term("minimax", f), np.mean(np.log(1.0 - _sig(FAKE))), rtol=1e-5)
    np.testing.assert_allclose(L.generator_term("non_saturating", f), np.mean(-np.log(_sig(FAKE))), rtol=1e-5)
    np.testing.assert_allclose(L.generator_term("hinge", f), -np.mean(FAKE), rtol=1e-6)
    with pytest.raises(ValueError, match="choose one of minimax, non_saturating, hinge"):
        L.generator_term("wasserstein", f)


def test_minimax_generator_gradient_vanishes_on_confidently_rejected_fakes_non_saturating_does_not():
    confident = jnp.full((8,), -10.0)  # the discriminator calls every fake fake, D(G(z)) ~ 4.5e-5
    g_mm = jax.grad(lambda l: L.generator_term("minimax", l))(confident)
    g_ns = jax.grad(lambda l: L.generator_term("non_saturating", l))(confident)
    # d/dl log(1 - sigmoid(l)) = -sigmoid(l); d/dl -log sigmoid(l) = -sigmoid(-l); batch mean: / 8
    np.testing.assert_allclose(g_mm, -_sig(-10.0) / 8, rtol=1e-4)
    np.testing.assert_allclose(g_ns, -_sig(10.0) / 8, rtol=1e-4)
    assert np.max(np.abs(g_mm)) < 1e-5 < 0.1 < np.min(np.abs(g_ns))
    # both push the fakes' logits up, the same direction
    assert np.all(g_mm < 0) and np.all(g_ns < 0)


def test_r1_of_a_linear_discriminator_is_the_squared_weight_norm():
    w = jnp.asarray([0.5, -2.0, 1.5])
    x = jax.random.normal(jax.random.PRNGKey(0), (6, 3))
    np.testing.assert_allclose(L.r1_penalty(lambda x, y: x @ w + 0.3, x), float(w @ w), rtol=1e-6)
    # quadratic logit sum(x^2) on images: gradient 2x, penalty mean ||2x||^2
    imgs = jax.random.normal(jax.random.PRNGKey(1), (5, 4, 4, 2))
    want = np.mean(np.sum((2.0 * np.asarray(imgs)).reshape(5, -1) ** 2, 1))
    np.testing.assert_allclose(L.r1_penalty(lambda x, y: jnp.sum(x**2, (1, 2, 3)), imgs), want, rtol=1e-5)


def _toy_gan(num_classes=0):
    kg, kd = jax.random.split(jax.random.PRNGKey(0))
    return GAN(MLPGenerator(2, 3, hidden=[8], num_classes=num_classes, key=kg),
               MLPDiscriminator(2, hidden=[8], num_classes=num_classes, key=kd), 3, num_classes)


def test_gan_terms_names_and_values_follow_the_players():
    model = _toy_gan()
    x = jax.random.normal(jax.random.PRNGKey(2), (16, 2))
    key = jax.random.PRNGKey(3)
    terms = L.gan_terms(model, {"x": x}, key, loss="hinge")
    assert set(terms) == {"d_real", "d_fake", "g_adv"}
    fake = model.generate(model.latents(key, 16))
    np.testing.assert_allclose(terms["g_adv"], -np.mean(np.asarray(model.discriminate(fake))), rtol=1e-5)
    with_r1 = L.gan_terms(model, {"x": x}, key, r1=True)
    assert set(with_r1) == {"d_real", "d_fake", "g_adv", "r1"} and float(with_r1["r1"]) > 0
    # conditional: the labels of the batch reach both players (another label, other terms)
    cond = _toy_gan(num_classes=3)
    y0, y1 = jnp.zeros(16, jnp.int32), jnp.full(16, 2, jnp.int32)
    t0 = L.gan_terms(cond, {"x": x, "y": y0}, key)
    t1 = L.gan_terms(cond, {"x": x, "y": y1}, key)
    assert abs(float(t0["d_real"]) - float(t1["d_real"])) > 1e-6
    assert eqx.tree_equal(t0, L.gan_terms(cond, {"x": x, "y": y0}, key))
