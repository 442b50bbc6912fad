"""A phase that differentiates sqrt(L) or log(L) of its weighted total loss L, and still records L.

Urbán, Stefanou & Pons (J. Comput. Phys. 2025, arXiv:2405.04230) and Kiyani et al. (CMAME 2025,
arXiv:2501.16371) minimise the square root or the logarithm of the mean squared residual in the quasi-Newton
phase: the minimiser is the same, but the gradient is rescaled by 1 / (2 sqrt L) or 1 / L, which keeps the line
search and the curvature pairs well scaled while L falls by many orders of magnitude.

:func:`transformed_total` wraps the total of :func:`~pinngen.core.updaters.base.weighted_total`, so every
updater (Adam, L-BFGS, the dense quasi-Newton ones) optimises the transformed objective with no change of its
own; :class:`TransformedLoss` wraps that updater and maps what it logs back to the untransformed L: ``loss``
(``v**2`` or ``exp(v)`` of the transformed value ``v``, exact up to rounding) and ``grad_norm`` (times ``dL/dv``,
the chain rule), so curves and ``diagnose()`` compare between runs with and without the transform. The terms
are never transformed. A floor of the dtype's smallest normal number inside sqrt / log keeps L = 0 finite
(value and a zero gradient); a negative total gives NaN, which the loop's non-finite guard reports.
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp

LOSS_TRANSFORMS = ("none", "sqrt", "log")


def _check(kind: str) -> None:
    if kind not in LOSS_TRANSFORMS:
        raise ValueError(f"loss_transform={kind!r}; choose one of {', '.join(LOSS_TRANSFORMS)}")


def forward(kind: str, total):
    """The objective a phase differentiates, from the weighted total ``total`` (a scalar)."""
    _check(kind)
    if kind == "none":
        return total
    floored = total + jnp.finfo(total.dtype).tiny
    return jnp.sqrt(floored) if kind == "sqrt" else jnp.log(floored)


def inverse(kind: str, value):
    """``(L, dL/dv)``: the untransformed total and the chain-rule factor at the transformed value ``v``."""
    _check(kind)
    if kind == "none":
        return value, jnp.ones_like(value)
    if kind == "sqrt":
        return value * value, 2.0 * value
    e = jnp.exp(value)
    return e, e


def transformed_total(total_fn: Callable, kind: str) -> Callable:
    """``f(params, batch, key, weights) -> (forward(kind, total), terms)`` from ``total_fn`` of the same shape."""
    _check(kind)
    if kind == "none":
        return total_fn

    def f(params, batch, key, weights):
        total, terms = total_fn(params, batch, key, weights)
        return forward(kind, total), terms

    return f


class TransformedLoss:
    """An updater built on :func:`transformed_total`, whose logs report the untransformed ``loss`` and
    ``grad_norm``. Everything else (state, stop codes, ``phase_meta``, ``new_objective``) is the inner one's."""

    def __init__(self, inner, kind: str):
        _check(kind)
        self.inner, self.kind = inner, kind
        self.full_batch, self.stops_early = inner.full_batch, inner.stops_early
        self.batches_per_step, self.objectives = inner.batches_per_step, inner.objectives

    def init(self, params):
        return self.inner.init(params)

    def step(self, params, state, batch, key, weights, step):
        params, state, logs = self.inner.step(params, state, batch, key, weights, step)
        loss, dldv = inverse(self.kind, logs["loss"])
        return params, state, dict(logs, loss=loss, grad_norm=logs["grad_norm"] * jnp.abs(dldv))

    def __getattr__(self, name):
        # only reached for attributes not set above (phase_meta, new_objective, ...)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)
