"""Denoising diffusion (Ho et al. 2020; DDIM: Song et al. 2021): schedules, objectives, samplers.

- :mod:`.schedules`: :class:`Schedule`, :func:`make_schedule` (linear, cosine, zero terminal SNR),
  :func:`q_sample` (the closed-form forward process), :func:`timesteps` (sampler spacing tables).
- :mod:`.objectives`: epsilon / x0 / v conversions and targets, :func:`diffusion_terms` (the loss per
  timestep bucket), :func:`bucket_losses` (a fixed-noise evaluation per bucket).
- :mod:`.samplers`: :func:`ddpm_sample`, :func:`ddim_sample`, :func:`sample`, :func:`sample_batched`.
"""

from .objectives import (
    PREDICTIONS,
    WEIGHTINGS,
    bucket_bounds,
    bucket_losses,
    bucket_names,
    bucket_of,
    diffusion_terms,
    loss_weight,
    predict_x0_eps,
    target,
)
from .samplers import SAMPLERS, ddim_sample, ddpm_sample, sample, sample_batched
from .schedules import SCHEDULE_KINDS, SPACINGS, Schedule, make_schedule, q_sample, timesteps

__all__ = [
    "PREDICTIONS",
    "SAMPLERS",
    "SCHEDULE_KINDS",
    "SPACINGS",
    "WEIGHTINGS",
    "Schedule",
    "bucket_bounds",
    "bucket_losses",
    "bucket_names",
    "bucket_of",
    "ddim_sample",
    "ddpm_sample",
    "diffusion_terms",
    "loss_weight",
    "make_schedule",
    "predict_x0_eps",
    "q_sample",
    "sample",
    "sample_batched",
    "target",
    "timesteps",
]
