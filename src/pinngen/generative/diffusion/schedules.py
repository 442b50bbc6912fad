"""Noise schedules of denoising diffusion, the closed-form forward process and sampler timestep tables.

Timesteps are 0-based: index ``t`` in ``[0, T)`` is the paper's step ``t + 1`` (Ho et al. 2020 count
``1..T``), so ``alphas_cumprod[t]`` is ``alpha_bar_{t+1}`` and "no noise" (``alpha_bar_0 = 1``) has no
index; samplers treat the step after ``t = 0`` as that clean end.

* ``linear``: betas evenly spaced from ``beta_start`` to ``beta_end`` (Ho et al. 2020, Sec. 4). The defaults
  (1e-4, 0.02) are meant for ``T = 1000``; for a shorter chain scale both by ``1000 / T`` to keep the same
  end noise level, otherwise ``alpha_bar`` at ``T - 1`` is far from 0 and sampling starts from the wrong noise.
* ``cosine``: ``alpha_bar(t) = f(t) / f(0)``, ``f(t) = cos^2(pi/2 (t/T + s) / (1 + s))`` (Nichol & Dhariwal
  2021, Eq. 17), betas ``1 - alpha_bar(t+1) / alpha_bar(t)`` clipped at ``max_beta`` (their Sec. 3.2).
* ``zero_terminal_snr``: Lin et al. 2024, Algorithm 1: shift and scale ``sqrt(alpha_bar)`` so the last value
  is exactly 0 (the training noise then matches the sampler's pure-noise start) and the first is unchanged.
  With it, epsilon prediction cannot recover ``x0`` at the last step; use ``v`` (or ``x0``) prediction.

Everything is float32 JAX; :class:`Schedule` is an Equinox module, so it passes through ``jit`` as a pytree.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

SCHEDULE_KINDS = ("linear", "cosine")
SPACINGS = ("leading", "trailing", "linspace")


class Schedule(eqx.Module):
    """A discrete variance schedule: ``betas``, ``alphas = 1 - betas`` and ``alphas_cumprod``, each ``(T,)``.

    ``T`` is static (the arrays' length), so it is safe to use for shapes inside ``jit``.
    """

    betas: jax.Array  # (T,)
    alphas: jax.Array  # (T,)
    alphas_cumprod: jax.Array  # (T,)

    @property
    def T(self) -> int:
        return int(self.betas.shape[0])

    def sqrt_ab(self, t):
        """``sqrt(alpha_bar_t)``, the signal scale of ``x_t``; ``t`` int array of any shape."""
        return jnp.sqrt(self.alphas_cumprod[t])

    def sqrt_1mab(self, t):
        """``sqrt(1 - alpha_bar_t)``, the noise scale of ``x_t``."""
        return jnp.sqrt(1.0 - self.alphas_cumprod[t])

    def snr(self, t):
        """Signal-to-noise ratio ``alpha_bar_t / (1 - alpha_bar_t)`` (Kingma et al. 2021)."""
        ab = self.alphas_cumprod[t]
        return ab / (1.0 - ab)


def _cosine_alphas_cumprod(T: int, s: float, max_beta: float) -> np.ndarray:
    f = np.cos((np.arange(T + 1, dtype=np.float64) / T + s) / (1 + s) * math.pi / 2) ** 2
    ab = f / f[0]
    betas = np.minimum(1.0 - ab[1:] / ab[:-1], max_beta)
    return np.cumprod(1.0 - betas)


def _rescale_zero_terminal_snr(ab: np.ndarray) -> np.ndarray:
    """Lin et al. 2024, Algorithm 1, on ``alpha_bar``: last ``sqrt(alpha_bar)`` -> 0, first kept."""
    r = np.sqrt(ab)
    first, last = r[0], r[-1]
    r = (r - last) * first / (first - last)
    return r**2


def make_schedule(
    kind: str = "linear",
    T: int = 1000,
    *,
    beta_start: float = 1e-4,
    beta_end: float = 0.02,
    cosine_s: float = 0.008,
    max_beta: float = 0.999,
    zero_terminal_snr: bool = False,
) -> Schedule:
    """Build a :class:`Schedule` of ``T`` steps (computed in float64, stored float32). See the module docstring."""
    if kind not in SCHEDULE_KINDS:
        raise ValueError(f"schedule kind={kind!r} is unknown; choose one of {SCHEDULE_KINDS}")
    if not isinstance(T, int | np.integer) or T < 2:
        raise ValueError(f"T={T!r} must be an integer >= 2 (the number of diffusion steps)")
    if kind == "linear":
        if not 0.0 < beta_start <= beta_end < 1.0:
            raise ValueError(f"need 0 < beta_start <= beta_end < 1, got beta_start={beta_start}, beta_end={beta_end}")
        betas = np.linspace(beta_start, beta_end, T, dtype=np.float64)
        ab = np.cumprod(1.0 - betas)
    else:
        if cosine_s < 0:
            raise ValueError(f"cosine_s={cosine_s} must be >= 0 (Nichol & Dhariwal use 0.008)")
        if not 0.0 < max_beta <= 1.0:
            raise ValueError(f"max_beta={max_beta} must be in (0, 1] (Nichol & Dhariwal use 0.999)")
        ab = _cosine_alphas_cumprod(int(T), cosine_s, max_beta)
    if zero_terminal_snr:
        ab = _rescale_zero_terminal_snr(ab)
    if not np.all(np.diff(ab) < 0) or not 0.0 < ab[0] < 1.0:
        raise ValueError(f"schedule {kind!r} with these settings is not strictly decreasing in (0, 1); check the betas")
    alphas = np.concatenate([ab[:1], ab[1:] / ab[:-1]])
    betas = 1.0 - alphas
    f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    return Schedule(betas=f32(betas), alphas=f32(alphas), alphas_cumprod=f32(ab))


def _bcast(v, x):
    """Reshape a per-example ``(n,)`` vector to broadcast over ``x``'s ``(n, *shape)``."""
    return jnp.reshape(v, v.shape + (1,) * (x.ndim - v.ndim))


def q_sample(schedule: Schedule, x0, t, noise):
    """``x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise`` (Ho et al. 2020, Eq. 4).

    ``x0`` and ``noise`` ``(n, *shape)``; ``t`` int ``(n,)`` in ``[0, T)``.
    """
    return _bcast(schedule.sqrt_ab(t), x0) * x0 + _bcast(schedule.sqrt_1mab(t), x0) * noise


def timesteps(T: int, n_steps: int, spacing: str = "leading") -> np.ndarray:
    """Descending int timesteps in ``[0, T)`` for a sampler that visits ``n_steps`` of the ``T`` steps.

    The conventions of Lin et al. 2024, Table 2 (as in diffusers), 0-based:

    * ``leading`` (DDIM, PNDM): ``k * (T // n)`` for ``k = 0..n-1``; for T=1000, n=10: 900, 800, ..., 0.
      Never starts at ``T - 1``, so the first step sees less noise than the sampler's N(0, I) start.
    * ``trailing`` (DPM-Solver): ``round(T - k T / n) - 1``: 999, 899, ..., 99. Starts at ``T - 1``.
    * ``linspace`` (iDDPM): ``round(linspace(0, T - 1, n))``: 999, 888, ..., 111, 0.
    """
    if spacing not in SPACINGS:
        raise ValueError(f"spacing={spacing!r} is unknown; choose one of {SPACINGS}")
    if not isinstance(n_steps, int | np.integer) or not 1 <= n_steps <= T:
        raise ValueError(f"n_steps={n_steps} must be an integer between 1 and the schedule's T={T}")
    if spacing == "leading":
        ts = np.arange(n_steps) * (T // n_steps)
    elif spacing == "trailing":
        ts = np.round(T - np.arange(n_steps) * (T / n_steps)) - 1
    else:
        ts = np.round(np.linspace(0, T - 1, n_steps))
    return np.sort(ts.astype(np.int64))[::-1].copy()
