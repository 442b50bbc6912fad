"""Loss weighting: fixed weights per term, causal weighting's spec, and gradient-norm balancing.

:func:`make_weight_update` gives ``fit(weight_update=...)`` one of two schemes:

- "lr_annealing" (Wang, Teng & Perdikaris 2021, "Understanding and mitigating gradient flow pathologies in
  physics-informed neural networks", SIAM J. Sci. Comput. 43(5), Algorithm 1, eq. 40-41):
  ``lambda_hat_i = max|grad L_r| / mean|grad L_i|``, ``lambda_i <- (1 - alpha) lambda_i + alpha lambda_hat_i``;
- "grad_norm" (Wang et al. 2023, "An expert's guide to training PINNs", arXiv:2308.08468, eq. 5.1):
  ``lambda_hat_i = sum_j ||grad L_j|| / ||grad L_i||``, same moving average.

The causal weights themselves are part of the loss (:mod:`pinngen.pinn.loss`); :class:`Causal` lives here
because it is one of the weighting options of the config.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from pydantic import BaseModel, ConfigDict, Field

from pinngen.core.nn import trainable_filter


class Causal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    eps: float = Field(1.0, gt=0.0, description="causality parameter epsilon")
    n_slices: int = Field(32, ge=1, description="time slices M")


class WeightingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weights: dict[str, float] = Field(default_factory=dict, description="fixed (initial) weight per term")
    scheme: Literal["fixed", "lr_annealing", "grad_norm"] = "fixed"
    alpha: float = Field(0.9, gt=0.0, le=1.0, description="moving-average factor of the adaptive weights")
    update_every: int | None = Field(None, ge=1, description="steps between adaptive weight updates "
                                     "(default: train.eval_every)")
    causal: Causal | None = None


RESIDUAL = "__residual__"


def _grad_stats(loss_terms: Callable, anchor: Sequence[str]):
    """Jitted (model, batch) -> {term: (max|g|, mean|g|, ||g||)} over the trainable parameters, plus
    RESIDUAL for the sum of the anchor (residual) terms."""

    def terms(p, static, batch):
        t = loss_terms(eqx.combine(p, static), batch, None)
        return {**t, RESIDUAL: sum(t[a] for a in anchor)}

    @eqx.filter_jit
    def stats(model, batch):
        params, static = eqx.partition(model, trainable_filter(model))
        jac = jax.jacrev(terms)(params, static, batch)
        out = {}
        for name, g in jac.items():
            leaves = [jnp.ravel(v) for v in jax.tree_util.tree_leaves(g)]
            flat = jnp.abs(jnp.concatenate(leaves))
            out[name] = (jnp.max(flat), jnp.mean(flat), jnp.sqrt(jnp.sum(flat**2)))
        return out

    return stats


def balanced_weights(stats: dict, weights: dict, *, scheme: str, alpha: float, anchor: Sequence[str]) -> dict:
    """One update of the adaptive weights from gradient statistics (pure; see the module docstring).

    stats: {term: (max|g|, mean|g|, ||g||)}, with stats[RESIDUAL] for the summed residual terms (else the
    largest anchor max is used); anchor: the residual terms, whose weights stay fixed in "lr_annealing"."""
    new = dict(weights)
    stats = dict(stats)
    res = stats.pop(RESIDUAL, None)
    if scheme == "lr_annealing":
        ref = float(res[0]) if res is not None else max(float(stats[a][0]) for a in anchor)
        for name, (_, mean, _) in stats.items():
            if name in anchor:
                continue
            hat = ref / max(float(mean), 1e-30)
            new[name] = (1.0 - alpha) * float(weights[name]) + alpha * hat
    elif scheme == "grad_norm":
        total = sum(float(s[2]) for s in stats.values())
        for name, (_, _, norm) in stats.items():
            hat = total / max(float(norm), 1e-30)
            new[name] = (1.0 - alpha) * float(weights[name]) + alpha * hat
    else:
        raise ValueError(f"scheme={scheme!r}; choose one of ('lr_annealing', 'grad_norm')")
    return new


def make_weight_update(loss_terms: Callable, spec: WeightingSpec, *, anchor: Sequence[str],
                       active: Callable[[int], bool] = lambda s: True, every: int = 1) -> Callable | None:
    """``weight_update(model, batch, weights, step) -> weights`` for fit, or None for fixed weights.
    Updates at most once per ``every`` steps, and only in first-order phases."""
    if spec.scheme == "fixed":
        return None
    stats_fn = _grad_stats(loss_terms, tuple(anchor))
    last = {"step": None}

    def update(model, batch, weights, step):
        if not active(step) or (last["step"] is not None and step - last["step"] < every):
            return weights
        last["step"] = step
        stats = jax.device_get(stats_fn(model, batch))
        return balanced_weights(stats, weights, scheme=spec.scheme, alpha=spec.alpha, anchor=anchor)

    update.every = every  # the loop starts a chunk on every multiple
    update.state_dict = lambda: dict(last)
    update.load_state_dict = lambda saved: last.update(step=None if saved.get("step") is None else int(saved["step"]))
    update.reset = lambda: last.update(step=None)  # a new fit on the same setup
    return update
