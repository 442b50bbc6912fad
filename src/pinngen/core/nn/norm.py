"""Group normalisation on channels-last activations (Wu & He 2018), the norm of diffusion U-Nets.

``GroupNorm(groups, channels)`` maps ``(n, ..., C) -> (n, ..., C)``: the channels are split into ``groups``
contiguous groups and each sample's group is normalised over all its positions and channels, then scaled and
shifted per channel (Wu & He 2018, Eq. 1-3 with the set S_i of Eq. 7). Unlike batch norm it does not depend on
the other samples of the batch, so a denoiser gives the same output for an image whatever it is batched with,
and there is no running state to carry between training and sampling.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["GroupNorm", "group_norm"]


def group_norm(x, groups: int, scale=None, shift=None, eps: float = 1e-5):
    """Normalise ``x`` of shape ``(n, ..., C)`` per sample and per group of ``C // groups`` channels.

    Written for speed on CPU (forward + backward 2.5x faster than reductions over a ``(n, HW, G, C/G)``
    reshape, measured at 28x28x32, batch 64): sums over the positions first, per channel (a reduction over a
    non-minor axis, vectorised along channels), then over each group's few channels; the output is one
    per-(sample, channel) affine map ``x a + b`` that folds in ``scale`` and ``shift`` (shape ``(C,)``). The
    variance is the mean of squared deviations from the mean (two passes): the one-pass
    ``E[x^2] - E[x]^2`` is 25 % faster but cancels in float32 when the mean is large against the spread.
    """
    n, c = x.shape[0], x.shape[-1]
    per = c // groups
    xf = x.reshape(n, -1, c)  # (n, positions, C)
    count = xf.shape[1] * per
    mean = jnp.repeat(jnp.sum(xf, axis=1).reshape(n, groups, per).sum(-1) / count, per, axis=1)  # (n, C)
    var = jnp.sum(jnp.square(xf - mean[:, None, :]), axis=1).reshape(n, groups, per).sum(-1) / count
    a = jnp.repeat(jax.lax.rsqrt(var + eps), per, axis=1)  # (n, C)
    if scale is not None:
        a = a * scale
    b = -mean * a
    if shift is not None:
        b = b + shift
    return (xf * a[:, None, :] + b[:, None, :]).reshape(x.shape)


class GroupNorm(eqx.Module):
    """Group normalisation with a learned per-channel scale (init 1) and shift (init 0); ``(n, ..., C)``.

    ``channels`` must be divisible by ``groups``; ``groups=1`` is layer norm over all positions and channels,
    ``groups=channels`` is instance norm.
    """

    scale: jax.Array  # (C,)
    shift: jax.Array  # (C,)
    groups: int = eqx.field(static=True)
    eps: float = eqx.field(static=True)

    def __init__(self, groups: int, channels: int, *, eps: float = 1e-5, dtype=jnp.float32):
        if groups < 1 or channels < 1 or channels % groups:
            raise ValueError(f"groups={groups}, channels={channels}: channels must be a positive multiple of "
                             "groups (choose groups dividing every channel width)")
        if eps <= 0:
            raise ValueError(f"eps={eps}: must be > 0")
        self.scale = jnp.ones((channels,), dtype)
        self.shift = jnp.zeros((channels,), dtype)
        self.groups, self.eps = int(groups), float(eps)

    def __call__(self, x):
        if x.shape[-1] != self.scale.shape[0]:
            raise ValueError(f"input has {x.shape[-1]} channels (last axis); this GroupNorm takes "
                             f"{self.scale.shape[0]}")
        return group_norm(x, self.groups, self.scale, self.shift, self.eps)
