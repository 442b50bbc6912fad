"""Schedules, the forward process and timestep tables, each checked against the papers' formulas computed here."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.generative.diffusion import Schedule, make_schedule, q_sample, timesteps


def test_linear_schedule_is_ho_et_al():
    s = make_schedule("linear", 1000)
    betas = np.linspace(1e-4, 0.02, 1000)
    assert s.T == 1000 and s.betas.dtype == jnp.float32
    np.testing.assert_allclose(s.betas, betas, rtol=1e-5)
    np.testing.assert_allclose(s.alphas_cumprod, np.cumprod(1 - betas), rtol=1e-4)
    # alpha_bar_T of Ho et al.'s schedule: exp(sum log(1 - beta)), about 4e-5 (terminal SNR not zero).
    assert 3e-5 < float(s.alphas_cumprod[-1]) < 5e-5


def test_cosine_alpha_bar_matches_nichol_dhariwal_eq17():
    T, s0 = 200, 0.008
    s = make_schedule("cosine", T)
    f = lambda t: math.cos((t / T + s0) / (1 + s0) * math.pi / 2) ** 2  # noqa: E731
    expected = np.array([f(t + 1) / f(0) for t in range(T)])
    # every step but the last, whose beta is clipped at max_beta
    np.testing.assert_allclose(s.alphas_cumprod[:-1], expected[:-1], rtol=2e-4, atol=1e-7)
    assert float(s.betas.max()) == pytest.approx(0.999, rel=1e-6)
    assert float(s.betas[-1]) == pytest.approx(0.999, rel=1e-6)
    np.testing.assert_allclose(s.alphas_cumprod[-1], expected[-2] * (1 - 0.999), rtol=1e-3)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_zero_terminal_snr(kind):
    plain = make_schedule(kind, 100, beta_end=0.2)
    zt = make_schedule(kind, 100, beta_end=0.2, zero_terminal_snr=True)
    assert float(zt.alphas_cumprod[-1]) == 0.0
    assert float(zt.snr(99)) == 0.0
    assert float(zt.alphas_cumprod[0]) == pytest.approx(float(plain.alphas_cumprod[0]), rel=1e-6)
    # Lin et al. Algorithm 1: sqrt(alpha_bar) is an affine map of the original one.
    r = np.sqrt(np.asarray(plain.alphas_cumprod, np.float64))
    np.testing.assert_allclose(np.sqrt(zt.alphas_cumprod), (r - r[-1]) * r[0] / (r[0] - r[-1]), atol=1e-6)
    assert np.all(np.diff(np.asarray(zt.alphas_cumprod)) < 0)
    np.testing.assert_allclose(np.cumprod(np.asarray(zt.alphas, np.float64)), zt.alphas_cumprod, atol=1e-6)


def test_schedule_helpers_and_jit():
    s = make_schedule("linear", 50, beta_end=0.4)
    ab = np.asarray(s.alphas_cumprod, np.float64)
    t = jnp.array([0, 10, 49])
    np.testing.assert_allclose(s.snr(t), ab[[0, 10, 49]] / (1 - ab[[0, 10, 49]]), rtol=1e-5)
    np.testing.assert_allclose(s.sqrt_ab(t) ** 2 + s.sqrt_1mab(t) ** 2, 1.0, rtol=1e-6)
    out = jax.jit(lambda sch: sch.sqrt_ab(jnp.arange(sch.T)))(s)
    assert out.shape == (50,)
    assert isinstance(s, Schedule)


def test_q_sample_statistics_match_closed_form():
    s = make_schedule("linear", 100, beta_end=0.2)
    t = jnp.array([0, 25, 60, 99], jnp.int32)
    x0 = jnp.broadcast_to(jnp.array([0.8, -0.5, 0.3, 1.0])[:, None, None, None], (4, 100, 100, 1))  # images
    xt = q_sample(s, x0, t, jax.random.normal(jax.random.PRNGKey(0), x0.shape))
    ab = np.cumprod(1 - np.linspace(1e-4, 0.2, 100))[[0, 25, 60, 99]]
    mean, var = np.sqrt(ab) * np.array([0.8, -0.5, 0.3, 1.0]), 1 - ab
    draws = np.asarray(xt).reshape(4, -1)  # 10,000 draws per timestep
    se = np.sqrt(var / draws.shape[1])
    assert np.all(np.abs(draws.mean(1) - mean) < 5 * se)
    assert np.all(np.abs(draws.var(1) / var - 1) < 5 * np.sqrt(2 / draws.shape[1]))


def test_q_sample_vectors_broadcast_per_example():
    s = make_schedule("cosine", 10)
    x0, eps = jnp.ones((3, 2)), jnp.full((3, 2), 2.0)
    t = jnp.array([0, 4, 9])
    ab = np.asarray(s.alphas_cumprod)[[0, 4, 9]]
    np.testing.assert_allclose(q_sample(s, x0, t, eps), (np.sqrt(ab) + 2 * np.sqrt(1 - ab))[:, None] * np.ones((3, 2)))


# Lin et al. 2024, Table 2, for T = 1000 and 10 steps, in their 1-based numbering: leading 901..1, trailing
# 1000..100, linspace 1000, 889, ..., 112, 1. Our timesteps are 0-based (paper step - 1).
def test_spacing_tables_match_lin_et_al_table2():
    assert timesteps(1000, 10, "leading").tolist() == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
    assert timesteps(1000, 10, "trailing").tolist() == [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]
    assert timesteps(1000, 10, "linspace").tolist() == [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]


def test_spacing_not_divisible_by_hand():
    # leading: 1000 // 3 = 333; trailing: round(1000 - k * 333.33) - 1; linspace: round(0, 499.5, 999)
    assert timesteps(1000, 3, "leading").tolist() == [666, 333, 0]
    assert timesteps(1000, 3, "trailing").tolist() == [999, 666, 332]
    assert timesteps(1000, 3, "linspace").tolist() == [999, 500, 0]
    for spacing in ("leading", "trailing", "linspace"):
        for T, n in [(100, 100), (100, 7), (37, 36), (1000, 50)]:
            ts = timesteps(T, n, spacing)
            assert len(set(ts.tolist())) == n and ts.min() >= 0 and ts.max() < T and np.all(np.diff(ts) < 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_steps=20.*T=10"):
        timesteps(10, 20)
    with pytest.raises(ValueError, match="n_steps=0"):
        timesteps(10, 0)
    with pytest.raises(ValueError, match="spacing='middle'"):
        timesteps(10, 5, "middle")
    with pytest.raises(ValueError, match="kind='sigmoid'"):
        make_schedule("sigmoid")
    with pytest.raises(ValueError, match="T=1"):
        make_schedule("linear", 1)
    with pytest.raises(ValueError, match="beta_end=0.001"):
        make_schedule("linear", 10, beta_start=0.01, beta_end=0.001)
    with pytest.raises(ValueError, match="max_beta=0"):
        make_schedule("cosine", 10, max_beta=0.0)
