"""Training objectives of denoising diffusion: what the denoiser predicts, its regression target, the loss
split by noise level, and a low-variance per-noise-level evaluation.

A *denoiser* is any callable ``denoiser(x_t, t, y) -> out``: ``x_t`` ``(n, *shape)``, ``t`` int32 ``(n,)`` in
``[0, T)``, ``y`` None or int32 labels ``(n,)`` (``num_classes`` = no label). ``out`` has ``x_t``'s shape and is
the model's estimate of ``epsilon``, ``x0`` or ``v`` according to ``prediction``:

* ``epsilon``: the noise (Ho et al. 2020, Eq. 14 "simple" loss).
* ``x0``: the clean data.
* ``v``: ``v = sqrt(ab) eps - sqrt(1 - ab) x0`` (Salimans & Ho 2022, Sec. 4); well defined at zero terminal SNR.

With ``a = sqrt(ab)``, ``b = sqrt(1 - ab)`` and ``x_t = a x0 + b eps`` each is an affine function of the others
(``a^2 + b^2 = 1``), which :func:`predict_x0_eps` inverts.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .schedules import Schedule, _bcast, q_sample

PREDICTIONS = ("epsilon", "x0", "v")
WEIGHTINGS = ("uniform", "min_snr")


def check_prediction(prediction: str) -> None:
    if prediction not in PREDICTIONS:
        raise ValueError(f"prediction={prediction!r} is unknown; choose one of {PREDICTIONS}")


def predict_x0_eps(schedule: Schedule, x_t, t, out, prediction: str):
    """Convert a denoiser's ``out`` at ``(x_t, t)`` into the pair ``(x0_hat, eps_hat)``.

    For ``epsilon`` at a zero-terminal-SNR step (``ab = 0``) ``x0_hat`` is not defined (division by 0).
    """
    check_prediction(prediction)
    a = _bcast(schedule.sqrt_ab(t), x_t)
    b = _bcast(schedule.sqrt_1mab(t), x_t)
    if prediction == "epsilon":
        return (x_t - b * out) / a, out
    if prediction == "x0":
        return out, (x_t - a * out) / b
    return a * x_t - b * out, b * x_t + a * out


def target(schedule: Schedule, x0, eps, t, prediction: str):
    """The regression target for ``prediction`` given the clean ``x0`` and the noise ``eps`` at ``t``."""
    check_prediction(prediction)
    if prediction == "epsilon":
        return eps
    if prediction == "x0":
        return x0
    return _bcast(schedule.sqrt_ab(t), x0) * eps - _bcast(schedule.sqrt_1mab(t), x0) * x0


def loss_weight(schedule: Schedule, t, prediction: str, weighting: str = "uniform", min_snr_gamma: float = 5.0):
    """Per-example weight ``w(t)`` ``(n,)``.

    ``min_snr`` (Hang et al. 2023): the x0-space weight ``min(snr, gamma)`` expressed for each prediction's own
    MSE: x0 ``min(snr, gamma)``, epsilon ``min(snr, gamma) / snr``, v ``min(snr, gamma) / (snr + 1)``. The
    epsilon form is written ``min(1, gamma / snr)``, which stays finite at ``snr = 0``.
    """
    check_prediction(prediction)
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting={weighting!r} is unknown; choose one of {WEIGHTINGS}")
    if weighting == "uniform":
        return jnp.ones(jnp.shape(t), jnp.float32)
    if not min_snr_gamma > 0:
        raise ValueError(f"min_snr_gamma={min_snr_gamma} must be > 0 (Hang et al. use 5)")
    snr = schedule.snr(t)
    if prediction == "epsilon":
        return jnp.minimum(1.0, min_snr_gamma / snr)
    if prediction == "v":
        return jnp.minimum(snr, min_snr_gamma) / (snr + 1.0)
    return jnp.minimum(snr, min_snr_gamma)


def _check_buckets(T: int, n_buckets: int) -> None:
    if not isinstance(n_buckets, int | np.integer) or not 1 <= n_buckets <= T:
        raise ValueError(f"n_buckets={n_buckets} must be an integer between 1 and the schedule's T={T}")


def bucket_of(t, T: int, n_buckets: int):
    """Bucket index of each timestep: ``floor(t * n_buckets / T)``, so bucket ``b`` holds about ``T / n`` steps."""
    _check_buckets(T, n_buckets)
    return (t * n_buckets) // T


def bucket_bounds(T: int, n_buckets: int) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` timestep of each bucket (the inverse of :func:`bucket_of`)."""
    _check_buckets(T, n_buckets)
    lo = [-(-b * T // n_buckets) for b in range(n_buckets + 1)]  # ceil(b T / n)
    return [(lo[b], lo[b + 1] - 1) for b in range(n_buckets)]


def bucket_names(T: int, n_buckets: int) -> list[str]:
    """Term names ``"t0-99", "t100-199", ...``: the timestep range each bucket covers."""
    return [f"t{a}-{b}" for a, b in bucket_bounds(T, n_buckets)]


def _per_example_mse(out, tgt):
    return jnp.mean(jnp.reshape((out - tgt) ** 2, (out.shape[0], -1)), axis=1)


def diffusion_terms(
    denoiser,
    schedule: Schedule,
    x0,
    key,
    *,
    y=None,
    prediction: str = "epsilon",
    n_buckets: int = 10,
    weighting: str = "uniform",
    min_snr_gamma: float = 5.0,
    cond_drop: float = 0.0,
    num_classes: int | None = None,
) -> dict[str, jax.Array]:
    """Denoising loss on a batch ``x0`` ``(n, *shape)``, split into one term per timestep bucket.

    Draws ``t ~ U{0..T-1}`` and ``eps ~ N(0, I)`` from ``key``, noises ``x0`` (Eq. 4) and regresses the
    denoiser's output on :func:`target`. ``term_b = (1/n) sum_{i: t_i in b} w(t_i) mse_i``: sums, not masked
    means, so the terms add up to the batch mean loss and a bucket no example fell in is exactly 0.

    ``cond_drop``: probability of replacing each label by the null label ``num_classes`` (classifier-free
    guidance training, Ho & Salimans 2022).
    """
    T = schedule.T
    names = bucket_names(T, n_buckets)
    if not 0.0 <= cond_drop < 1.0:
        raise ValueError(f"cond_drop={cond_drop} must be in [0, 1) (a probability of dropping the label)")
    if cond_drop > 0 and (y is None or num_classes is None):
        raise ValueError("cond_drop > 0 needs labels y and num_classes (the null label); this batch has none")
    n = x0.shape[0]
    k_t, k_eps, k_drop = jax.random.split(key, 3)
    t = jax.random.randint(k_t, (n,), 0, T, dtype=jnp.int32)
    eps = jax.random.normal(k_eps, x0.shape, x0.dtype)
    if cond_drop > 0:
        drop = jax.random.bernoulli(k_drop, cond_drop, (n,))
        y = jnp.where(drop, jnp.int32(num_classes), y)
    out = denoiser(q_sample(schedule, x0, t, eps), t, y)
    per = loss_weight(schedule, t, prediction, weighting, min_snr_gamma) * _per_example_mse(
        out, target(schedule, x0, eps, t, prediction)
    )
    per = per / n
    b = bucket_of(t, T, n_buckets)
    sums = jnp.zeros((n_buckets,), per.dtype).at[b].add(per)
    return {name: sums[i] for i, name in enumerate(names)}


@eqx.filter_jit
def _bucket_loss_array(denoiser, schedule, x0, key, y, prediction, ts):
    eps = jax.random.normal(key, x0.shape, x0.dtype)  # the same noise at every timestep

    def one(t_scalar):
        t = jnp.full((x0.shape[0],), t_scalar, jnp.int32)
        out = denoiser(q_sample(schedule, x0, t, eps), t, y)
        return jnp.mean(_per_example_mse(out, target(schedule, x0, eps, t, prediction)))

    return jax.lax.map(one, ts)  # one timestep at a time: memory of a single batch


def bucket_losses(
    denoiser,
    schedule: Schedule,
    x0,
    key,
    *,
    y=None,
    prediction: str = "epsilon",
    n_buckets: int = 10,
    per_bucket: int | None = None,
) -> dict[str, float]:
    """Unweighted loss per bucket on a fixed batch, for evaluation curves that compare across checkpoints.

    Each bucket is evaluated at ``per_bucket`` timesteps spread evenly over its range (default 4, at most its
    width), all on the same ``x0`` and the same noise drawn from ``key``, so differences between buckets and
    between evaluations reflect the model, not the draw. Returns ``{bucket_name: float}``.
    """
    check_prediction(prediction)
    T = schedule.T
    bounds = bucket_bounds(T, n_buckets)
    k = 4 if per_bucket is None else per_bucket
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"per_bucket={per_bucket} must be a positive integer (timesteps per bucket)")
    ts = []
    for lo, hi in bounds:
        m = min(k, hi - lo + 1)
        spread = np.round(np.linspace(lo, hi, m)).astype(np.int32)
        ts.append(np.concatenate([spread, np.full(k - m, spread[-1], np.int32)]))  # fixed k per bucket
    ts = np.concatenate(ts)
    losses = np.asarray(_bucket_loss_array(denoiser, schedule, x0, key, y, prediction, jnp.asarray(ts)))
    losses = losses.reshape(n_buckets, k)
    counts = [min(k, hi - lo + 1) for lo, hi in bounds]
    return {name: float(losses[i, : counts[i]].mean()) for i, name in enumerate(bucket_names(T, n_buckets))}
