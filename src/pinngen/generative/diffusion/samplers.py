"""Samplers of denoising diffusion, swappable without retraining: ancestral DDPM and DDIM, with classifier-free
guidance and an optional recorded trajectory.

Each sampler is one ``lax.scan`` over its timesteps with a fixed-size state, and a pure function of
``(denoiser, schedule, key, ...)``: ``jax.jit`` / ``eqx.filter_jit`` it with ``shape``, ``n``, ``steps``,
``spacing``, ``prediction``, ``clip``, ``num_classes`` and ``return_trajectory`` static. :func:`sample`
validates and dispatches through cached compiled versions; :func:`sample_batched` generates large ``N`` in
equal-size batches that reuse one compiled loop.

Randomness: ``key`` splits into the start noise ``x_T ~ N(0, I)`` (unless ``noise`` is given) and a loop key;
step ``i`` draws its noise from ``fold_in(loop_key, i)``, the same in both samplers, so DDIM with ``eta = 1``
over all ``T`` steps reproduces DDPM draw for draw (their updates are algebraically equal).

Classifier-free guidance (Ho & Salimans 2022): ``out = out_uncond + g (out_cond - out_uncond)`` on the raw
output (affine in every parameterisation, so the same for epsilon, x0 or v), both halves from one denoiser
call on a doubled batch whose second half carries the null label ``num_classes``. ``g = 1`` is plain
conditional sampling, ``g = 0`` unconditional.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .objectives import check_prediction, predict_x0_eps
from .schedules import Schedule, timesteps

SAMPLERS = ("ddim", "ddpm")
DEFAULT_DDIM_STEPS = 50


def _model_out(denoiser, x, t_scalar, y, guidance, num_classes):
    n = x.shape[0]
    t = jnp.full((n,), t_scalar, jnp.int32)
    if guidance is None:
        return denoiser(x, t, y)
    y2 = jnp.concatenate([y, jnp.full_like(y, num_classes)])
    out = denoiser(jnp.concatenate([x, x]), jnp.concatenate([t, t]), y2)
    cond, uncond = out[:n], out[n:]
    return uncond + guidance * (cond - uncond)


def _x0_eps(denoiser, schedule, x, t_scalar, y, guidance, num_classes, prediction, clip, recompute_eps=True):
    """Denoiser output -> ``(x0_hat, eps_hat)``; with ``clip``, ``x0_hat`` is clipped to [-1, 1] and, with
    ``recompute_eps``, ``eps_hat`` recomputed from it so the pair stays consistent with ``x_t`` (improved-diffusion's
    DDIM); without, ``eps_hat`` stays the model's (HF diffusers' default, ``use_clipped_model_output=False``).
    Measured on an under-trained Fashion-MNIST model (BENCHMARKS.md): the same FD at eta 0, better with
    recomputing at eta 1 (34.8 against 45.9), hence the default."""
    out = _model_out(denoiser, x, t_scalar, y, guidance, num_classes)
    t = jnp.full((x.shape[0],), t_scalar, jnp.int32)
    x0, eps = predict_x0_eps(schedule, x, t, out, prediction)
    if clip:
        x0 = jnp.clip(x0, -1.0, 1.0)
        if recompute_eps:
            eps = (x - schedule.sqrt_ab(t_scalar) * x0) / schedule.sqrt_1mab(t_scalar)
    return x0, eps


def _trajectory_slots(ts: np.ndarray, requested) -> np.ndarray:
    """For each requested timestep ``r``, the loop step whose input state is recorded: the first visited
    timestep ``<= r``; ``len(ts)`` (the final sample) when none is (e.g. ``r = -1``)."""
    r = np.asarray(requested, dtype=np.int64).reshape(-1)
    return np.array([int(np.argmax(ts <= v)) if np.any(ts <= v) else len(ts) for v in r], np.int32)


def _run_chain(update, x, ts, key, return_trajectory):
    """Scan ``update(x, i, t, key_i) -> x`` over ``ts``; optionally record states into a fixed-size buffer."""
    k = len(ts)
    steps = (jnp.arange(k, dtype=jnp.int32), jnp.asarray(ts, jnp.int32))
    if return_trajectory is None:

        def body(x, step):
            i, t = step
            return update(x, i, t, jax.random.fold_in(key, i)), None

        x, _ = jax.lax.scan(body, x, steps)
        return x
    slots = jnp.asarray(_trajectory_slots(np.asarray(ts), return_trajectory))
    mask_shape = (-1,) + (1,) * x.ndim

    def body_traj(carry, step):
        x, traj = carry
        i, t = step
        traj = jnp.where(jnp.reshape(slots == i, mask_shape), x[None], traj)
        return (update(x, i, t, jax.random.fold_in(key, i)), traj), None

    traj0 = jnp.zeros((len(slots),) + x.shape, x.dtype)  # (len, n, *shape)
    (x, traj), _ = jax.lax.scan(body_traj, (x, traj0), steps)
    traj = jnp.where(jnp.reshape(slots == k, mask_shape), x[None], traj)
    return x, traj


def _start(key, shape, n, noise):
    k_init, k_loop = jax.random.split(key)
    x = jax.random.normal(k_init, (n, *shape), jnp.float32) if noise is None else jnp.asarray(noise, jnp.float32)
    if x.shape != (n, *shape):
        raise ValueError(f"noise has shape {x.shape}; expected (n, *shape) = {(n, *shape)}")
    return x, k_loop


def ddpm_sample(
    denoiser,
    schedule: Schedule,
    key,
    shape,
    n: int,
    *,
    prediction: str,
    y=None,
    guidance=None,
    num_classes: int | None = None,
    clip: bool = True,
    return_trajectory=None,
    noise=None,
):
    """Ancestral sampling over all ``T`` steps (Ho et al. 2020, Algorithm 2).

    Each step forms ``x0_hat`` (clipped to [-1, 1] with ``clip``), the posterior mean
    ``mu = sqrt(ab_prev) beta_t / (1 - ab_t) x0_hat + sqrt(alpha_t) (1 - ab_prev) / (1 - ab_t) x_t`` (Eq. 7) and
    adds ``sqrt(beta_tilde_t) z`` with ``beta_tilde_t = (1 - ab_prev) / (1 - ab_t) beta_t``; the last step
    (``ab_prev = 1``) adds no noise. Returns ``x0`` ``(n, *shape)``, and with ``return_trajectory`` (timestep
    indices; ``-1`` = the final sample) also the states ``(len, n, *shape)``.
    """
    check_prediction(prediction)
    x, k_loop = _start(key, shape, n, noise)

    def update(x, i, t, k):
        ab = schedule.alphas_cumprod[t]
        ab_prev = jnp.where(t > 0, schedule.alphas_cumprod[jnp.maximum(t - 1, 0)], 1.0)
        beta, alpha = schedule.betas[t], schedule.alphas[t]
        x0, _ = _x0_eps(denoiser, schedule, x, t, y, guidance, num_classes, prediction, clip)
        mean = (jnp.sqrt(ab_prev) * beta / (1 - ab)) * x0 + (jnp.sqrt(alpha) * (1 - ab_prev) / (1 - ab)) * x
        var = (1 - ab_prev) / (1 - ab) * beta
        return mean + jnp.sqrt(var) * jax.random.normal(k, x.shape, x.dtype)

    ts = np.arange(schedule.T - 1, -1, -1)
    return _run_chain(update, x, ts, k_loop, return_trajectory)


def ddim_sample(
    denoiser,
    schedule: Schedule,
    key,
    shape,
    n: int,
    *,
    steps: int = DEFAULT_DDIM_STEPS,
    eta=0.0,
    spacing: str = "leading",
    prediction: str,
    y=None,
    guidance=None,
    num_classes: int | None = None,
    clip: bool = True,
    recompute_eps: bool = True,
    return_trajectory=None,
    noise=None,
):
    """DDIM (Song et al. 2021, Eq. 12) on ``steps`` timesteps chosen by ``spacing`` (see :func:`timesteps`).

    ``x_prev = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev - sigma^2) eps_hat + sigma z`` with
    ``sigma = eta sqrt((1 - ab_prev) / (1 - ab_t)) sqrt(1 - ab_t / ab_prev)`` (Eq. 16); ``ab_prev`` is the next
    visited timestep's, 1 after the last. ``eta = 0``: deterministic given the start noise; ``eta = 1``:
    DDPM's posterior variance on the sub-sampled chain. ``eta`` may be a traced scalar. ``recompute_eps``: see
    :func:`_x0_eps` (only matters with ``clip``).
    """
    check_prediction(prediction)
    ts = timesteps(schedule.T, steps, spacing)
    prev = np.concatenate([ts[1:], [-1]])
    x, k_loop = _start(key, shape, n, noise)
    prev_j = jnp.asarray(prev, jnp.int32)
    eta = jnp.asarray(eta, jnp.float32)

    def update(x, i, t, k):
        p = prev_j[i]
        ab = schedule.alphas_cumprod[t]
        ab_prev = jnp.where(p >= 0, schedule.alphas_cumprod[jnp.maximum(p, 0)], 1.0)
        x0, eps = _x0_eps(denoiser, schedule, x, t, y, guidance, num_classes, prediction, clip, recompute_eps)
        sigma = eta * jnp.sqrt((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev))
        direction = jnp.sqrt(jnp.maximum(1 - ab_prev - sigma**2, 0.0))
        mean = jnp.sqrt(ab_prev) * x0 + direction * eps
        # eta = 0 (the usual DDIM) skips drawing noise it would multiply by 0: a real branch at run time
        return jax.lax.cond(
            eta > 0, lambda: mean + sigma * jax.random.normal(k, x.shape, x.dtype), lambda: mean.astype(x.dtype)
        )

    return _run_chain(update, x, ts, k_loop, return_trajectory)


_COMPILED = {"ddpm": eqx.filter_jit(ddpm_sample), "ddim": eqx.filter_jit(ddim_sample)}


def _concrete(a) -> bool:
    return not isinstance(a, jax.core.Tracer)


def _validate(schedule, sampler, steps, prediction, y, guidance, num_classes, n):
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler={sampler!r} is unknown; choose one of {SAMPLERS}")
    check_prediction(prediction)
    T = schedule.T
    if steps is not None:
        if not isinstance(steps, int | np.integer) or steps < 1:
            raise ValueError(f"steps={steps!r} must be a positive integer")
        if steps > T:
            raise ValueError(f"steps={steps} is larger than the schedule's T={T}; use at most {T} steps")
        if sampler == "ddpm" and steps != T:
            raise ValueError(
                f"sampler='ddpm' runs all T={T} steps (got steps={steps}); for fewer steps use sampler='ddim' "
                "(eta=1 is the sub-sampled ancestral chain)"
            )
    if guidance is not None:
        if num_classes is None:
            raise ValueError("guidance needs a class-conditional model; this model is unconditional")
        if y is None:
            raise ValueError("guidance needs class labels y (n,) to guide towards; pass y")
    if y is not None and tuple(jnp.shape(y)) != (n,):
        raise ValueError(f"y has shape {tuple(jnp.shape(y))}; expected one label per sample, ({n},)")
    ab = schedule.alphas_cumprod
    if prediction == "epsilon" and _concrete(ab) and float(ab[-1]) == 0.0:
        raise ValueError(
            "prediction='epsilon' cannot recover x0 at zero terminal SNR (alpha_bar_T = 0); "
            "train with prediction='v' (Lin et al. 2024)"
        )


def sample(
    denoiser,
    schedule: Schedule,
    key,
    shape,
    n: int,
    *,
    sampler: str = "ddim",
    steps: int | None = None,
    eta: float = 0.0,
    spacing: str = "leading",
    prediction: str = "epsilon",
    y=None,
    guidance: float | None = None,
    num_classes: int | None = None,
    clip: bool = True,
    recompute_eps: bool = True,
    return_trajectory=None,
    noise=None,
):
    """One entry point for both samplers; validates, then runs a cached compiled loop.

    ``steps``: DDIM steps (default ``min(50, T)``); DDPM always runs ``T``. ``guidance`` and ``eta`` are traced,
    so changing them does not recompile. Returns ``x0`` ``(n, *shape)``, or ``(x0, trajectory)``.
    """
    _validate(schedule, sampler, steps, prediction, y, guidance, num_classes, n)
    shape = tuple(int(s) for s in shape)
    common = dict(
        prediction=prediction,
        y=None if y is None else jnp.asarray(y, jnp.int32),
        guidance=None if guidance is None else jnp.asarray(guidance, jnp.float32),
        num_classes=None if num_classes is None else int(num_classes),
        clip=bool(clip),
        return_trajectory=None if return_trajectory is None else tuple(int(r) for r in np.ravel(return_trajectory)),
        noise=noise,
    )
    if sampler == "ddpm":
        return _COMPILED["ddpm"](denoiser, schedule, key, shape, int(n), **common)
    steps = min(DEFAULT_DDIM_STEPS, schedule.T) if steps is None else int(steps)
    eta = jnp.asarray(eta, jnp.float32)
    return _COMPILED["ddim"](denoiser, schedule, key, shape, int(n), steps=steps, eta=eta, spacing=spacing,
                             recompute_eps=bool(recompute_eps), **common)


def sample_batched(denoiser, schedule: Schedule, key, shape, n: int, *, batch_size: int = 256, y=None, **kwargs):
    """:func:`sample` for large ``n`` in batches of ``batch_size`` (the last one padded), all through one
    compiled loop. Batch ``b`` uses ``fold_in(key, b)``. Returns NumPy ``x0`` ``(n, *shape)``, or
    ``(x0, trajectory (len, n, *shape))`` with ``return_trajectory``. ``kwargs`` go to :func:`sample`.
    """
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n={n!r} must be a positive integer (the number of samples)")
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} must be a positive integer")
    if kwargs.get("noise") is not None:
        raise ValueError("sample_batched draws its own start noise; call sample(..., noise=...) instead")
    bs = min(int(batch_size), int(n))
    y_all = None if y is None else np.asarray(y, np.int32)
    if y_all is not None and y_all.shape != (n,):
        raise ValueError(f"y has shape {y_all.shape}; expected one label per sample, ({n},)")
    outs, trajs = [], []
    for b, start in enumerate(range(0, n, bs)):
        m = min(bs, n - start)
        yb = None
        if y_all is not None:
            yb = np.concatenate([y_all[start : start + m], np.full(bs - m, y_all[start], np.int32)])
        res = sample(denoiser, schedule, jax.random.fold_in(key, b), shape, bs, y=yb, **kwargs)
        if isinstance(res, tuple):
            outs.append(np.asarray(res[0])[:m])
            trajs.append(np.asarray(res[1])[:, :m])
        else:
            outs.append(np.asarray(res)[:m])
    x = np.concatenate(outs)
    return (x, np.concatenate(trajs, axis=1)) if trajs else x
