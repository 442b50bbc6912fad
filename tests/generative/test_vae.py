"""Contract suite for the VAE: terms, gradients, shapes, checkpoints, determinism, and the estimators."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core import checkpoint as ckpt
from pinngen.core.train import fit
from pinngen.generative import likelihood as L
from pinngen.generative import vae as V
from pinngen.generative.vae_experiment import template

CASES = [("dense", "logistic", "learned"), ("dense", "gaussian", "learned"), ("dense", "gaussian", "fixed"),
         ("dense", "bernoulli", "learned"), ("conv", "logistic", "learned")]


def _spec(arch, obs, var):
    return dict(image_shape=[8, 8], latent_dim=3, architecture=arch, hidden=[16], channels=[4],
                observation=obs, variance=var, sigma=0.2, levels=17, activation="tanh", dtype="float32")


@pytest.fixture(scope="module")
def digits_small():
    from pinngen.data import digits

    return jnp.asarray(digits().as_float().x_train[:16])  # (16, 8, 8) in [0, 1]


@eqx.filter_jit
def _terms_and_grads(m, x, key):
    def total(params, static):
        t = V.loss_terms(eqx.combine(params, static), {"x": x}, key)
        return t["reconstruction"] + t["kl"], t

    params, static = eqx.partition(m, eqx.is_inexact_array)
    (_, terms), grads = jax.value_and_grad(total, has_aux=True)(params, static)
    return terms, grads


@eqx.filter_jit
def _encode_decode(m, x):
    mean, log_var = V.encode(m, x)
    return mean, log_var, V.decode(m, mean)


@pytest.mark.parametrize("arch,obs,var", CASES)
def test_contract_terms_gradients_shapes(arch, obs, var, digits_small):
    x = digits_small
    m = template(_spec(arch, obs, var), key=jax.random.PRNGKey(0))
    terms, grads = _terms_and_grads(m, x, jax.random.PRNGKey(1))
    assert set(terms) == {"reconstruction", "kl"}
    assert all(np.isfinite(float(v)) and jnp.ndim(v) == 0 for v in terms.values())
    assert float(terms["kl"]) >= 0.0
    for g in jax.tree_util.tree_leaves(grads):
        assert np.all(np.isfinite(g)) and float(jnp.max(jnp.abs(g))) > 0.0, "a parameter gets no gradient"
    mean, log_var, decoded = _encode_decode(m, x)
    assert mean.shape == log_var.shape == (16, 3)
    assert decoded.shape == (16, 8, 8)


@eqx.filter_jit
def _generate(m, x, key):
    return dict(recon=V.reconstruct(m, x[:4]), path=V.interpolate(m, x[0], x[1], 6),
                mean_samples=V.sample(m, 5, key), draws=V.sample(m, 5, key, pixel_noise=True))


@pytest.mark.parametrize("obs,var", [("logistic", "learned"), ("gaussian", "learned"), ("bernoulli", "learned")])
def test_generation_shapes_and_ranges(obs, var, digits_small):
    m = template(_spec("dense", obs, var), key=jax.random.PRNGKey(0))
    out = _generate(m, digits_small, jax.random.PRNGKey(2))
    assert out["recon"].shape == (4, 8, 8) and out["path"].shape == (6, 8, 8)
    for name in ("mean_samples", "draws"):
        s = np.asarray(out[name])
        assert s.shape == (5, 8, 8) and s.min() >= 0.0 and s.max() <= 1.0
    draws = np.asarray(out["draws"]) * 16  # pixel draws lie on the 17-level grid
    np.testing.assert_allclose(draws, np.round(draws), atol=1e-4)


@pytest.mark.parametrize("arch,obs,var", CASES[:1] + CASES[-1:])
def test_save_load_round_trip(arch, obs, var, tmp_path, digits_small):
    spec = _spec(arch, obs, var)
    m = template(spec, key=jax.random.PRNGKey(0))
    ckpt.save_model(tmp_path, m, spec)
    back = ckpt.load_model(tmp_path, template(ckpt.load_spec(tmp_path), key=jax.random.PRNGKey(5)))
    for a, b in zip(jax.tree_util.tree_leaves(m), jax.tree_util.tree_leaves(back), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(_encode_decode(m, digits_small)[2], _encode_decode(back, digits_small)[2])


def test_same_seed_same_result_and_beta_is_a_weight(digits_small):
    a = template(_spec("dense", "logistic", "learned"), key=jax.random.PRNGKey(0))
    b = template(_spec("dense", "logistic", "learned"), key=jax.random.PRNGKey(0))
    for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(u, v)
    ta, _ = _terms_and_grads(a, digits_small, jax.random.PRNGKey(1))
    tb, _ = _terms_and_grads(b, digits_small, jax.random.PRNGKey(1))
    assert {n: float(v) for n, v in ta.items()} == {n: float(v) for n, v in tb.items()}
    # beta enters as a training weight: the total is reconstruction + 0.5 kl, the terms stay unweighted
    cfg = {"phases": [{"steps": 12, "batch_size": 8, "lr": 1e-3}], "eval_every": 12, "progress": False}
    _, h = fit(a, {"x": digits_small}, cfg, loss_terms=V.loss_terms, seed=4, weights={"kl": 0.5})
    np.testing.assert_allclose(h.column("loss"), h.column("loss/reconstruction") + 0.5 * h.column("loss/kl"),
                               rtol=1e-5)


def test_reparameterisation_gradient_matches_closed_form():
    # E_q[sum z^2] = sum(mu^2 + sigma^2): d/dmu = 2 mu, d/dlog_var = sigma^2.
    mu, lv = jnp.array([0.3, -1.2]), jnp.array([-0.5, 0.4])

    def mc(mu, lv):
        z = V.reparameterize(jnp.broadcast_to(mu, (200_000, 2)), lv, jax.random.PRNGKey(0))
        return jnp.mean(jnp.sum(z**2, axis=-1))

    g_mu, g_lv = jax.grad(mc, argnums=(0, 1))(mu, lv)
    np.testing.assert_allclose(g_mu, 2 * mu, atol=0.02)
    np.testing.assert_allclose(g_lv, jnp.exp(lv), atol=0.02)


def test_kl_closed_form_matches_monte_carlo():
    mu, lv = jnp.array([[0.5, -1.0, 2.0]]), jnp.array([[0.3, -1.5, 0.0]])
    z = V.reparameterize(jnp.broadcast_to(mu, (400_000, 3)), jnp.broadcast_to(lv, (400_000, 3)),
                         jax.random.PRNGKey(1))
    zero = jnp.zeros(3)
    mc = jnp.mean(L.gaussian_log_density(z, mu[0], lv[0]) - L.gaussian_log_density(z, zero, zero))
    closed = L.standard_normal_kl(mu, lv)[0]
    assert abs(float(mc) - float(closed)) < 0.01 * float(closed)


def test_terms_sum_to_the_negative_elbo(digits_small):
    # one draw of log w with the same key as the training terms: reconstruction + kl = -E[log w] on average
    m = template(_spec("dense", "logistic", "learned"), key=jax.random.PRNGKey(0))
    x = digits_small[:4]
    terms = jax.jit(jax.vmap(lambda k: V.loss_terms(m, {"x": x}, k)))(jax.random.split(jax.random.PRNGKey(0), 300))
    neg_elbo_terms = float(jnp.mean(terms["reconstruction"] + terms["kl"]))
    logw = eqx.filter_jit(V.log_weights)(m, x, jax.random.PRNGKey(7), 2000, data_key=jax.random.PRNGKey(8))
    assert abs(neg_elbo_terms - float(-jnp.mean(logw))) < 0.01 * abs(neg_elbo_terms)


def test_bernoulli_on_grey_levels_has_no_likelihood(digits_small):
    m = template(_spec("dense", "bernoulli", "learned"), key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="not a likelihood"):
        V.log_prob(m, digits_small[:2], jax.random.PRNGKey(0), k=2)


@pytest.mark.parametrize("kwargs,name", [({"observation": "poisson"}, "observation"),
                                         ({"architecture": "rnn"}, "architecture"),
                                         ({"latent_dim": 0}, "latent_dim"), ({"variance": "x"}, "variance"),
                                         ({"levels": 1}, "levels")])
def test_bad_hyperparameters_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        V.VAE(image_shape=(8, 8), key=jax.random.PRNGKey(0), **kwargs)
