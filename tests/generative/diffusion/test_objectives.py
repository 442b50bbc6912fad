"""Objectives: parameterisation conversions, targets, per-bucket terms and the bucket evaluation."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.generative.diffusion import (
    bucket_bounds,
    bucket_losses,
    bucket_names,
    bucket_of,
    diffusion_terms,
    loss_weight,
    make_schedule,
    predict_x0_eps,
    q_sample,
    target,
)

T = 100
SCHED = make_schedule("linear", T, beta_start=1e-3, beta_end=0.2)  # Ho et al.'s endpoints scaled by 1000 / T
AB = np.cumprod(1 - np.linspace(1e-3, 0.2, T))  # the same alpha_bar, computed here


def _pair():
    k1, k2 = jax.random.split(jax.random.PRNGKey(1))
    x0 = jax.random.uniform(k1, (T, 3, 3, 2), minval=-1, maxval=1)  # images, one per timestep
    eps = jax.random.normal(k2, x0.shape)
    return x0, eps, jnp.arange(T, dtype=jnp.int32)


@pytest.mark.parametrize("prediction", ["epsilon", "x0", "v"])
def test_conversions_round_trip(prediction):
    x0, eps, t = _pair()
    xt = q_sample(SCHED, x0, t, eps)
    x0_hat, eps_hat = predict_x0_eps(SCHED, xt, t, target(SCHED, x0, eps, t, prediction), prediction)
    np.testing.assert_allclose(x0_hat, x0, atol=2e-4)
    np.testing.assert_allclose(eps_hat, eps, atol=2e-5)


def test_v_target_is_salimans_ho():
    x0, eps, t = _pair()
    a, b = np.sqrt(AB)[:, None, None, None], np.sqrt(1 - AB)[:, None, None, None]
    np.testing.assert_allclose(target(SCHED, x0, eps, t, "v"), a * eps - b * x0, atol=1e-5)
    np.testing.assert_array_equal(target(SCHED, x0, eps, t, "x0"), x0)
    np.testing.assert_array_equal(target(SCHED, x0, eps, t, "epsilon"), eps)


def test_bucket_names_and_bounds():
    assert bucket_names(1000, 10) == [f"t{100 * i}-{100 * i + 99}" for i in range(10)]
    assert bucket_names(10, 3) == ["t0-3", "t4-6", "t7-9"]  # floor(3 t / 10): 0,0,0,0,1,1,1,2,2,2
    for TT, nb in [(10, 3), (100, 7), (1000, 10), (5, 5)]:
        b = np.asarray(bucket_of(np.arange(TT), TT, nb))
        for i, (lo, hi) in enumerate(bucket_bounds(TT, nb)):
            assert np.all(np.flatnonzero(b == i) == np.arange(lo, hi + 1))
    with pytest.raises(ValueError, match="n_buckets=11.*T=10"):
        bucket_names(10, 11)


def _capturing(fn):
    seen = {}

    def denoiser(xt, t, y):
        seen.update(xt=np.asarray(xt), t=np.asarray(t), y=None if y is None else np.asarray(y))
        return fn(xt, t)

    return denoiser, seen


def test_terms_sum_to_plain_mean_loss_and_fall_in_their_buckets():
    n = 64
    x0 = jax.random.uniform(jax.random.PRNGKey(0), (n, 5), minval=-1, maxval=1)
    denoiser, seen = _capturing(lambda xt, t: 0.5 * xt)
    terms = diffusion_terms(denoiser, SCHED, x0, jax.random.PRNGKey(3), n_buckets=10)
    assert list(terms) == bucket_names(T, 10)
    t, xt = seen["t"], seen["xt"]
    a, b = np.sqrt(AB[t])[:, None], np.sqrt(1 - AB[t])[:, None]
    eps = (xt - a * np.asarray(x0)) / b  # the noise the objective drew, recovered from x_t
    mse = ((0.5 * xt - eps) ** 2).mean(1)
    assert sum(float(v) for v in terms.values()) == pytest.approx(mse.mean(), rel=1e-4)
    for name in terms:
        lo, hi = (int(v) for v in name[1:].split("-"))
        assert float(terms[name]) == pytest.approx(mse[(t >= lo) & (t <= hi)].sum() / n, rel=1e-4, abs=1e-7)


def test_empty_buckets_are_zero_not_nan():
    terms = diffusion_terms(lambda xt, t, y: xt, SCHED, jnp.ones((2, 3)), jax.random.PRNGKey(0), n_buckets=20)
    values = np.array([float(v) for v in terms.values()])
    assert np.all(np.isfinite(values)) and (values == 0).sum() >= 18 and values.sum() > 0


def _equivalent_denoiser(prediction):
    """Every parameterisation of the same estimate x0_hat = 0.7 x_t (converted here by hand)."""

    def denoiser(xt, t, y):
        a, b = np.sqrt(AB)[t][:, None], np.sqrt(1 - AB)[t][:, None]
        x0 = 0.7 * xt
        eps = (xt - a * x0) / b
        return {"x0": x0, "epsilon": eps, "v": a * eps - b * x0}[prediction]

    return denoiser


def test_min_snr_weights_are_one_x0_space_weighting():
    """Hang et al.: each prediction's weight turns its own MSE into min(snr, gamma) * MSE in x0 space."""
    x0 = jax.random.uniform(jax.random.PRNGKey(0), (256, 4), minval=-1, maxval=1)
    key = jax.random.PRNGKey(5)
    totals = {}
    for p in ("x0", "epsilon", "v"):
        terms = diffusion_terms(_equivalent_denoiser(p), SCHED, x0, key, prediction=p, weighting="min_snr")
        totals[p] = sum(float(v) for v in terms.values())
    assert totals["epsilon"] == pytest.approx(totals["x0"], rel=1e-3)
    assert totals["v"] == pytest.approx(totals["x0"], rel=1e-3)
    snr = AB / (1 - AB)
    t = jnp.arange(T)
    np.testing.assert_allclose(loss_weight(SCHED, t, "x0", "min_snr", 5.0), np.minimum(snr, 5), rtol=1e-4)
    np.testing.assert_allclose(loss_weight(SCHED, t, "epsilon", "min_snr", 5.0), np.minimum(snr, 5) / snr, rtol=1e-4)
    np.testing.assert_allclose(loss_weight(SCHED, t, "v", "min_snr", 5.0), np.minimum(snr, 5) / (snr + 1), rtol=1e-4)
    zt = make_schedule("linear", T, beta_end=0.2, zero_terminal_snr=True)
    assert float(loss_weight(zt, jnp.array([T - 1]), "epsilon", "min_snr")[0]) == 1.0  # snr = 0: finite


def test_cond_drop_replaces_labels_by_the_null_class():
    n, k = 4000, 10
    y = jnp.arange(n, dtype=jnp.int32) % k
    denoiser, seen = _capturing(lambda xt, t: xt)
    diffusion_terms(denoiser, SCHED, jnp.zeros((n, 2)), jax.random.PRNGKey(2), y=y, cond_drop=0.3, num_classes=k)
    dropped = seen["y"] == k
    assert abs(dropped.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / n)
    np.testing.assert_array_equal(seen["y"][~dropped], np.asarray(y)[~dropped])
    with pytest.raises(ValueError, match="num_classes"):
        diffusion_terms(denoiser, SCHED, jnp.zeros((4, 2)), jax.random.PRNGKey(2), y=y[:4], cond_drop=0.1)
    with pytest.raises(ValueError, match="prediction='eps'"):
        diffusion_terms(denoiser, SCHED, jnp.zeros((4, 2)), jax.random.PRNGKey(2), prediction="eps")


def test_terms_jit_and_gradients():
    model = eqx.nn.Linear(3, 3, key=jax.random.PRNGKey(0))

    def loss(m, x0, key):
        terms = diffusion_terms(lambda xt, t, y: jax.vmap(m)(xt), SCHED, x0, key, prediction="v")
        return sum(terms.values())

    g = eqx.filter_jit(eqx.filter_grad(loss))(model, jnp.ones((16, 3)), jax.random.PRNGKey(1))
    assert np.all(np.isfinite(g.weight)) and float(jnp.abs(g.weight).sum()) > 0


def test_bucket_losses_fixed_noise():
    x0 = jax.random.uniform(jax.random.PRNGKey(0), (32, 4, 4, 1), minval=-1, maxval=1)
    key = jax.random.PRNGKey(9)
    # zero epsilon estimate: the loss is mean(eps^2) of the same noise in every bucket
    zero = bucket_losses(lambda xt, t, y: jnp.zeros_like(xt), SCHED, x0, key, prediction="epsilon", n_buckets=5)
    assert list(zero) == bucket_names(T, 5)
    eps = np.asarray(jax.random.normal(key, x0.shape))
    np.testing.assert_allclose(list(zero.values()), (eps**2).mean(), rtol=1e-5)
    # x0 estimate = x_t: error (a - 1) x0 + b eps grows with the noise level
    ident = bucket_losses(lambda xt, t, y: xt, SCHED, x0, key, prediction="x0", n_buckets=5, per_bucket=3)
    values = list(ident.values())
    assert all(isinstance(v, float) for v in values) and np.all(np.diff(values) > 0)
    assert bucket_losses(lambda xt, t, y: xt, SCHED, x0, key, prediction="x0", n_buckets=5, per_bucket=3) == ident
    with pytest.raises(ValueError, match="per_bucket=0"):
        bucket_losses(lambda xt, t, y: xt, SCHED, x0, key, prediction="x0", per_bucket=0)
