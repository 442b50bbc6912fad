"""Samplers against an oracle: for Gaussian data x0 ~ N(m, s^2 I) the optimal denoiser is closed form, so a
correct sampler must return (close to) N(m, s^2). The discretisation error a few-step sampler still has with
an exact denoiser is computed here by propagating mean and variance through the papers' update formulas."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.generative.diffusion import ddim_sample, ddpm_sample, make_schedule, sample, sample_batched

M, S = 0.3, 0.5
LINEAR = make_schedule("linear", 1000)
AB = np.cumprod(1 - np.linspace(1e-4, 0.02, 1000))
SMALL = make_schedule("cosine", 100)


def oracle(schedule, prediction, m=M, s=S):
    """E[eps | x_t], E[x0 | x_t] or E[v | x_t] for x0 ~ N(m, s^2) per coordinate (Gaussian conditioning)."""
    ab_table = jnp.asarray(np.asarray(schedule.alphas_cumprod, np.float64), jnp.float32)

    def denoiser(xt, t, y):
        ab = ab_table[t].reshape((-1,) + (1,) * (xt.ndim - 1))
        a, b = jnp.sqrt(ab), jnp.sqrt(1 - ab)
        var = a * a * s * s + b * b  # Var x_t
        eps = b / var * (xt - a * m)
        x0 = m + a * s * s / var * (xt - a * m)
        return {"epsilon": eps, "x0": x0, "v": a * eps - b * x0}[prediction]

    return denoiser


def exact_moments(ts, eta, m=M, s=S, ab=AB):
    """Mean and std of the sampler's output with the oracle: each step is affine in x_t, so propagate
    (mean, var) through DDIM's Eq. 12 (all T steps with eta = 1 is DDPM's Algorithm 2)."""
    mu, var = 0.0, 1.0
    for i, t in enumerate(ts):
        a2, a2p = ab[t], (ab[ts[i + 1]] if i + 1 < len(ts) else 1.0)
        a, b = np.sqrt(a2), np.sqrt(1 - a2)
        v = a2 * s * s + b * b
        sig = eta * np.sqrt((1 - a2p) / (1 - a2) * (1 - a2 / a2p))
        gain = np.sqrt(a2p) * a * s * s / v + np.sqrt(1 - a2p - sig**2) * b / v
        mu, var = np.sqrt(a2p) * m + gain * (mu - a * m), gain**2 * var + sig**2
    return mu, np.sqrt(var)


def _check(x, mu, sd, rel_to_s):
    x = np.asarray(x).ravel()
    n = x.size
    assert abs(x.mean() - mu) < 4 * sd / np.sqrt(n), (x.mean(), mu)
    assert abs(x.std() / sd - 1) < 4 / np.sqrt(2 * n), (x.std(), sd)
    assert abs(x.mean() - M) < 0.05 and abs(x.std() / S - 1) < rel_to_s


@pytest.mark.parametrize("prediction", ["epsilon", "v"])
def test_ddpm_1000_samples_the_data_distribution(prediction):
    x = sample(
        oracle(LINEAR, prediction),
        LINEAR,
        jax.random.PRNGKey(0),
        (2,),
        2000,
        sampler="ddpm",
        prediction=prediction,
        clip=False,
    )
    mu, sd = exact_moments(np.arange(999, -1, -1), 1.0)
    assert abs(sd / S - 1) < 0.01  # DDPM-1000 with an exact denoiser is within 1 % of the data's std
    _check(x, mu, sd, 0.04)


@pytest.mark.parametrize("eta, bias", [(0.0, 0.09), (1.0, 0.14)])
def test_ddim_50_samples_the_data_distribution(eta, bias):
    """DDIM-50 on this linear schedule: std 5.5 % (eta 0) and 11 % (eta 1) below s even with an exact
    denoiser (the known reverse-variance underestimate, Bao et al. 2022); the sampler must reproduce that."""
    x = sample(
        oracle(LINEAR, "x0"), LINEAR, jax.random.PRNGKey(1), (2,), 2000, steps=50, eta=eta, prediction="x0", clip=False
    )
    mu, sd = exact_moments(np.arange(49, -1, -1) * 20, eta)
    _check(x, mu, sd, bias)


def test_ddim_eta0_is_deterministic_given_start_noise():
    noise = jax.random.normal(jax.random.PRNGKey(7), (16, 4, 4, 1))
    d = oracle(SMALL, "epsilon")
    a = sample(d, SMALL, jax.random.PRNGKey(0), (4, 4, 1), 16, steps=10, noise=noise)
    b = sample(d, SMALL, jax.random.PRNGKey(1), (4, 4, 1), 16, steps=10, noise=noise)
    np.testing.assert_array_equal(a, b)
    c = sample(d, SMALL, jax.random.PRNGKey(1), (4, 4, 1), 16, steps=10, eta=1.0, noise=noise)
    assert float(jnp.abs(c - a).max()) > 1e-2  # eta = 1 adds fresh noise


@pytest.mark.parametrize("prediction", ["epsilon", "x0", "v"])
def test_ddim_eta1_all_steps_equals_ddpm(prediction):
    """With every timestep and eta = 1, Eq. 12 is Eq. 7's posterior: the same chain, draw for draw."""
    d, key = oracle(SMALL, prediction), jax.random.PRNGKey(3)
    x_ddpm = ddpm_sample(d, SMALL, key, (3,), 64, prediction=prediction)
    x_ddim = ddim_sample(d, SMALL, key, (3,), 64, steps=100, eta=1.0, prediction=prediction)
    np.testing.assert_allclose(x_ddim, x_ddpm, atol=2e-4)


def _conditional(num_classes=3):
    """A class-conditional toy denoiser; the null label num_classes has its own embedding."""
    emb = jnp.linspace(-0.5, 0.5, num_classes + 1)

    def denoiser(xt, t, y):
        return 0.9 * xt + emb[y][:, None] + 1e-3 * t[:, None]

    return denoiser


def test_guidance_one_is_plain_conditional_and_zero_unconditional():
    d, key, y = _conditional(), jax.random.PRNGKey(0), jnp.array([0, 1, 2, 1], jnp.int32)
    kw = dict(steps=20, num_classes=3)
    plain = sample(d, SMALL, key, (2,), 4, y=y, **kw)
    np.testing.assert_allclose(sample(d, SMALL, key, (2,), 4, y=y, guidance=1.0, **kw), plain, atol=1e-5)
    uncond = sample(d, SMALL, key, (2,), 4, y=jnp.full(4, 3, jnp.int32), **kw)
    np.testing.assert_allclose(sample(d, SMALL, key, (2,), 4, y=y, guidance=0.0, **kw), uncond, atol=1e-5)
    strong = sample(d, SMALL, key, (2,), 4, y=y, guidance=3.0, **kw)
    assert float(jnp.abs(strong - plain).max()) > 1e-3


def test_guidance_uses_one_call_on_a_doubled_batch():
    seen = []

    def d(xt, t, y):
        seen.append((xt.shape, np.asarray(y).tolist() if not isinstance(y, jax.core.Tracer) else None))
        return 0.5 * xt

    ddim_sample(
        d,
        SMALL,
        jax.random.PRNGKey(0),
        (2,),
        3,
        steps=5,
        prediction="epsilon",
        y=jnp.array([0, 1, 0]),
        guidance=2.0,
        num_classes=2,
    )
    assert [s for s, _ in seen] == [(6, 2)]  # traced once, inside the scan, on 2n rows


def test_trajectory_records_states_at_the_requested_times():
    d = oracle(LINEAR, "epsilon")
    x, traj = sample(
        d, LINEAR, jax.random.PRNGKey(4), (2,), 2000, sampler="ddpm", clip=False, return_trajectory=[999, 400, -1]
    )
    assert traj.shape == (3, 2000, 2)
    np.testing.assert_array_equal(traj[-1], x)
    # x_t's marginal under the forward process: N(a m, a^2 s^2 + 1 - a^2)
    for k, t in enumerate([999, 400]):
        mu, sd = np.sqrt(AB[t]) * M, np.sqrt(AB[t] * S * S + 1 - AB[t])
        v = np.asarray(traj[k]).ravel()
        assert abs(v.mean() - mu) < 4 * sd / np.sqrt(v.size) and abs(v.std() / sd - 1) < 4 / np.sqrt(2 * v.size)


def test_trajectory_on_a_subsampled_chain_images():
    noise = jax.random.normal(jax.random.PRNGKey(0), (5, 4, 4, 1))
    d = oracle(SMALL, "v")
    x, traj = sample(
        d,
        SMALL,
        jax.random.PRNGKey(1),
        (4, 4, 1),
        5,
        steps=10,
        spacing="trailing",
        prediction="v",
        noise=noise,
        return_trajectory=np.array([99, 50, 0, -1]),
    )
    assert traj.shape == (4, 5, 4, 4, 1)
    np.testing.assert_array_equal(traj[0], noise)  # trailing starts at t = 99: the start noise
    np.testing.assert_array_equal(traj[2], x)  # no visited step <= 0 after 9: the final sample
    np.testing.assert_array_equal(traj[3], x)
    # the state at 50 is the chain's state entering t = 49 (trailing: 99, 89, ..., 49, ..., 9): rerun to it
    part = sample(
        d,
        SMALL,
        jax.random.PRNGKey(1),
        (4, 4, 1),
        5,
        steps=10,
        spacing="trailing",
        prediction="v",
        noise=noise,
        return_trajectory=[49],
    )[1]
    np.testing.assert_array_equal(traj[1], part[0])
    assert float(jnp.abs(traj[1] - noise).max()) > 0.1 and float(jnp.abs(traj[1] - x).max()) > 0.1


def test_clip_keeps_x0_in_range():
    x = sample(
        lambda xt, t, y: jnp.zeros_like(xt),
        SMALL,
        jax.random.PRNGKey(0),
        (8,),
        16,
        steps=10,
        prediction="epsilon",
        clip=True,
    )
    assert float(jnp.abs(x).max()) <= 1.0 + 1e-6  # eta = 0: the last step returns the clipped x0_hat


def test_recompute_eps_only_matters_when_clipping():
    # a zero-eps denoiser: x0_hat = x_t / sqrt(ab), far outside [-1, 1] at high noise, so clipping is active
    zero = lambda xt, t, y: jnp.zeros_like(xt)  # noqa: E731
    common = dict(steps=10, prediction="epsilon", eta=0.0, return_trajectory=[50])  # a state halfway down
    key, shape = jax.random.PRNGKey(3), (8,)
    a, b, c, d = (np.asarray(sample(zero, SMALL, key, shape, 16, clip=cl, recompute_eps=r, **common)[1][0])
                  for cl, r in ((True, True), (True, False), (False, True), (False, False)))
    np.testing.assert_array_equal(c, d)  # nothing clipped: the flag changes nothing
    # keeping the model's eps (= 0): each step is x_prev = sqrt(ab_prev) clip(x0_hat), inside [-1, 1]; the
    # recomputed eps carries the clipped-off part of x_t into the next state instead
    assert np.abs(b).max() <= 1.0 + 1e-6 and np.abs(a).max() > 1.5


def test_bad_requests():
    d = oracle(SMALL, "epsilon")
    with pytest.raises(ValueError, match="steps=200.*T=100"):
        sample(d, SMALL, jax.random.PRNGKey(0), (2,), 4, steps=200)
    with pytest.raises(ValueError, match="^guidance needs a class-conditional model; this model is unconditional$"):
        sample(d, SMALL, jax.random.PRNGKey(0), (2,), 4, guidance=2.0)
    with pytest.raises(ValueError, match="needs class labels y"):
        sample(d, SMALL, jax.random.PRNGKey(0), (2,), 4, guidance=2.0, num_classes=3)
    with pytest.raises(ValueError, match="sampler='ddpm' runs all T=100"):
        sample(d, SMALL, jax.random.PRNGKey(0), (2,), 4, sampler="ddpm", steps=10)
    with pytest.raises(ValueError, match="sampler='euler'"):
        sample(d, SMALL, jax.random.PRNGKey(0), (2,), 4, sampler="euler")
    zt = make_schedule("cosine", 100, zero_terminal_snr=True)
    with pytest.raises(ValueError, match="zero terminal SNR"):
        sample(d, zt, jax.random.PRNGKey(0), (2,), 4, prediction="epsilon")
    assert np.all(np.isfinite(sample(oracle(zt, "v"), zt, jax.random.PRNGKey(0), (2,), 4, prediction="v")))


def test_samplers_jit_directly():
    model = eqx.nn.Linear(2, 2, key=jax.random.PRNGKey(0))
    run = eqx.filter_jit(
        lambda m, key: ddim_sample(lambda xt, t, y: jax.vmap(m)(xt), SMALL, key, (2,), 8, steps=5, prediction="epsilon")
    )
    assert run(model, jax.random.PRNGKey(0)).shape == (8, 2)


def test_sample_batched_reuses_one_compiled_loop():
    traces = []
    base = oracle(SMALL, "epsilon")

    def d(xt, t, y):
        traces.append(xt.shape)
        return base(xt, t, y)

    y = np.arange(7, dtype=np.int32) % 2
    x, traj = sample_batched(
        d, SMALL, jax.random.PRNGKey(0), (3,), 7, batch_size=4, steps=10, y=y, return_trajectory=[50]
    )
    assert traces == [(4, 3)]  # two batches (4 + 3 padded to 4), one trace
    assert isinstance(x, np.ndarray) and x.shape == (7, 3) and traj.shape == (1, 7, 3)
    first = sample(d, SMALL, jax.random.fold_in(jax.random.PRNGKey(0), 0), (3,), 4, steps=10, y=y[:4])
    np.testing.assert_allclose(x[:4], first, atol=1e-6)
    with pytest.raises(ValueError, match="y has shape"):
        sample_batched(d, SMALL, jax.random.PRNGKey(0), (3,), 7, batch_size=4, y=y[:5])
