"""Attribution of a model's output to its inputs: saliency and integrated gradients.

Both take any batch-first function ``f(x) -> (n,)`` or ``(n, k)`` of inputs ``x`` ``(n, ...)`` (images,
points, sequences) whose samples do not interact (no batch statistics): a classifier's class probabilities,
an encoder's codes (``target=j`` picks latent unit ``j``), a per-sample reconstruction error, ... With
``(n, k)`` outputs ``target`` picks the unit to explain: an int for all samples, ``(n,)`` ints, or None for
each sample's largest output (the predicted class).

* :func:`saliency`: ``|d f_t / d x|`` (Simonyan, Vedaldi & Zisserman 2014).
* :func:`integrated_gradients`: ``(x - x') * int_0^1 d f_t(x' + a (x - x')) / dx da`` (Sundararajan, Taly
  & Yan 2017, Eq. 1), by the trapezoid rule; the attributions of a sample sum to ``f_t(x) - f_t(x')``
  (completeness, their Prop. 1) up to the quadrature error, which :attr:`IntegratedGradients.gap` reports.

Plotting attribution maps of images is :func:`pinngen.generative.interpret.plot_attributions`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["IntegratedGradients", "integrated_gradients", "saliency"]


def _resolve_target(f: Callable, x, target):
    """``None`` for ``(n,)`` outputs, else ``(n,)`` int indices (the argmax at ``x`` when target is None)."""
    out = f(x)
    if out.ndim == 1:
        if target is not None:
            raise ValueError(f"f returns one value per sample (shape {out.shape}); leave target=None")
        return None
    if out.ndim != 2 or out.shape[0] != x.shape[0]:
        raise ValueError(f"f must return (n,) or (n, k) for n={x.shape[0]} inputs, got shape {out.shape}")
    if target is None:
        return jnp.argmax(out, axis=1)
    t = jnp.broadcast_to(jnp.asarray(target, jnp.int32), (x.shape[0],))
    if int(jnp.min(t)) < 0 or int(jnp.max(t)) >= out.shape[1]:
        raise ValueError(f"target {np.asarray(target).tolist()} out of range for {out.shape[1]} outputs")
    return t


def _select(out, t):
    return out if t is None else jnp.take_along_axis(out, t[:, None], axis=1)[:, 0]  # (n,)


def saliency(f: Callable, x, *, target=None, absolute: bool = True) -> jax.Array:
    """Input gradients ``d f_t(x) / d x``, shape of ``x``; their absolute value when ``absolute``."""
    x = jnp.asarray(x)
    t = _resolve_target(f, x, target)
    g = jax.grad(lambda xx: jnp.sum(_select(f(xx), t)))(x)
    return jnp.abs(g) if absolute else g


class IntegratedGradients(NamedTuple):
    """Attributions ``(n, ...)`` (shape of ``x``), and ``f_t`` at the inputs and at the baselines ``(n,)``."""

    attributions: jax.Array
    f_x: jax.Array
    f_baseline: jax.Array

    @property
    def gap(self) -> jax.Array:
        """Completeness error per sample, ``sum(attributions) - (f_x - f_baseline)``, ``(n,)``."""
        a = self.attributions.reshape(self.attributions.shape[0], -1)
        return jnp.sum(a, axis=1) - (self.f_x - self.f_baseline)


def integrated_gradients(f: Callable, x, *, baseline=None, target=None, steps: int = 64) -> IntegratedGradients:
    """Integrated gradients of ``f_t`` at ``x`` relative to ``baseline`` (default: zeros, a black image).

    The path integral uses the trapezoid rule on ``steps`` equal intervals (``steps + 1`` gradient
    evaluations of the whole batch, in a ``lax.scan``); its error falls as ``1 / steps^2`` for smooth
    ``f``. The target is fixed at ``x`` (the predicted class there), not re-chosen along the path.
    """
    if steps < 1:
        raise ValueError(f"steps={steps}: need at least one interval")
    x = jnp.asarray(x)
    base = jnp.zeros_like(x) if baseline is None else jnp.broadcast_to(jnp.asarray(baseline, x.dtype), x.shape)
    t = _resolve_target(f, x, target)
    grad = jax.grad(lambda xx: jnp.sum(_select(f(xx), t)))
    alphas = jnp.linspace(0.0, 1.0, steps + 1, dtype=x.dtype)
    weights = jnp.full((steps + 1,), 1.0 / steps, x.dtype).at[jnp.array([0, steps])].set(0.5 / steps)

    def body(acc, aw):
        a, w = aw
        return acc + w * grad(base + a * (x - base)), None

    mean_grad, _ = jax.lax.scan(body, jnp.zeros_like(x), (alphas, weights))
    return IntegratedGradients((x - base) * mean_grad, _select(f(x), t), _select(f(base), t))
