"""The PINN loss: named terms ``{"pde": mean r^2, <condition>: ...}``, optionally causally weighted.

Causal weighting of the residual over time slices (Wang, Sankaran & Perdikaris 2022, "Respecting
causality is all you need for training physics-informed neural networks", arXiv:2203.07404, eq. 2.9-2.10):
``L_r = (1/M) sum_i w_i L_i``, ``w_i = exp(-eps sum_{k<i} L_k)``, the weights not differentiated, so a
later time slice only counts once the earlier ones are fitted.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from pinngen.pinn.problem import Problem
from pinngen.pinn.weighting import Causal


def causal_weights(slice_losses: jax.Array, eps: float) -> jax.Array:
    """w_i = exp(-eps * sum_{k<i} L_k) (w_0 = 1), not differentiated: (M,) -> (M,)."""
    before = jnp.cumsum(slice_losses) - slice_losses  # exclusive cumulative sum
    return jax.lax.stop_gradient(jnp.exp(-eps * before))


def slice_losses(r2: jax.Array, t: jax.Array, t0: float, t1: float, n_slices: int) -> jax.Array:
    """Mean of r2 (n,) over points in each of n_slices equal time slices of [t0, t1]: (M,)."""
    s = jnp.clip(jnp.floor((t - t0) / (t1 - t0) * n_slices), 0, n_slices - 1).astype(jnp.int32)
    total = jax.ops.segment_sum(r2, s, num_segments=n_slices)
    count = jax.ops.segment_sum(jnp.ones_like(r2), s, num_segments=n_slices)
    return total / jnp.maximum(count, 1.0)


def causal_loss(r2: jax.Array, t: jax.Array, t0: float, t1: float, causal: Causal) -> tuple[jax.Array, jax.Array]:
    """(1/M) sum_i w_i L_i and the weights w (M,)."""
    L = slice_losses(r2, t, t0, t1, causal.n_slices)
    w = causal_weights(L, causal.eps)
    return jnp.mean(w * L), w


def _r2(r: jax.Array) -> jax.Array:
    """Squared residual per point: (n,) or (n, n_eq) -> (n,) (mean over equations)."""
    return jnp.square(r) if r.ndim == 1 else jnp.mean(jnp.square(r), axis=1)


def make_loss_terms(problem: Problem, causal: Causal | None = None) -> Callable:
    """``(model, batch, key) -> {"pde" (or "pde_<eq>"): ..., <condition>: ...}``."""
    if causal is not None and problem.time is None:
        raise ValueError(f"causal weighting needs a time input; problem {problem.name!r} has inputs {problem.inputs}")
    if causal is not None:
        t_axis = problem.inputs.index(problem.time)
        t0, t1 = (float(b[t_axis]) for b in problem.geometry.bbox)

    def loss_terms(model, batch, key=None):
        params = model.parameter_values()
        x = batch["pde"]["x"]
        terms = {}
        w = None
        if problem.residual_weight is not None:
            w = problem.residual_weight({n: x[:, i] for i, n in enumerate(problem.inputs)})
        for name, r in problem.residuals(model, x, params).items():
            r2 = _r2(r) if w is None else _r2(r) * w
            terms[name] = causal_loss(r2, x[:, t_axis], t0, t1, causal)[0] if causal else jnp.mean(r2)
        for c in problem.conditions:
            terms[c.name] = c.loss(model, batch[c.name], params)
        return terms

    return loss_terms


def residual_norm(model, x: jax.Array) -> jax.Array:
    """|residual| per point (n,) (Euclidean norm over equations)."""
    res = model.problem.residuals(model, x, model.parameter_values())
    return jnp.sqrt(sum(_r2(r) * (1 if r.ndim == 1 else r.shape[1]) for r in res.values()))
