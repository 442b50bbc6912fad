"""Input embeddings: random Fourier features and exact periodic embeddings (batch-first, ``(..., in)``)."""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp

from .mlp import Frozen


class FourierFeatures(eqx.Module):
    """Random Fourier features ``[cos(2 pi x B), sin(2 pi x B)]`` (Tancik et al. 2020, Eq. 5).

    ``B`` (in, n_features) ~ N(0, sigma^2) is frozen. Output width is ``2 * n_features``.
    """

    B: Frozen
    out_size: int = eqx.field(static=True)

    def __init__(self, *, in_size: int, n_features: int, sigma: float, key, dtype=jnp.float32):
        if n_features < 1 or sigma <= 0:
            raise ValueError(f"n_features={n_features}, sigma={sigma}: need n_features >= 1 and sigma > 0")
        self.B = Frozen(sigma * jax.random.normal(key, (in_size, n_features), dtype))
        self.out_size = 2 * n_features

    def __call__(self, x):
        z = 2.0 * jnp.pi * x @ jax.lax.stop_gradient(self.B.value)
        return jnp.concatenate([jnp.cos(z), jnp.sin(z)], axis=-1)


class PeriodicEmbedding(eqx.Module):
    """Exact periodicity in chosen input dims: x_d -> [cos(k w x_d), sin(k w x_d)] for k = 1..n_harmonics,
    with w = 2 pi / period (Dong & Ni 2021). Other dims pass through. Output width is returned by
    ``out_size``."""

    dims: tuple[int, ...] = eqx.field(static=True)
    periods: tuple[float, ...] = eqx.field(static=True)
    n_harmonics: int = eqx.field(static=True)
    in_size: int = eqx.field(static=True)

    def __init__(self, *, in_size: int, dims: Sequence[int], periods: Sequence[float], n_harmonics: int = 1):
        if len(dims) != len(periods):
            raise ValueError(f"dims {list(dims)} and periods {list(periods)} must have the same length")
        if any(d < 0 or d >= in_size for d in dims):
            raise ValueError(f"dims={list(dims)} out of range for in_size={in_size}")
        self.dims, self.periods = tuple(dims), tuple(float(p) for p in periods)
        self.n_harmonics, self.in_size = int(n_harmonics), in_size

    @property
    def out_size(self) -> int:
        return self.in_size - len(self.dims) + 2 * self.n_harmonics * len(self.dims)

    def __call__(self, x):
        parts = [x[..., d : d + 1] for d in range(self.in_size) if d not in self.dims]
        for d, period in zip(self.dims, self.periods, strict=True):
            k = jnp.arange(1, self.n_harmonics + 1, dtype=x.dtype)
            z = (2 * jnp.pi / period) * x[..., d : d + 1] * k
            parts += [jnp.cos(z), jnp.sin(z)]
        return jnp.concatenate(parts, axis=-1)
