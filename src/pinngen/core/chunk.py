"""Jitted chunks of update steps: ``C`` steps of any updater in one ``lax.scan``.

A chunk returns every step's logs, so the host syncs once per chunk instead of once per step. Two
compiled forms per phase, both with the same static shapes:

- ``fast``: every step runs, with no per-step branch or parameter select (the usual case);
- ``guarded``: steps at or past ``limit``, or after a stop code, are no-ops, and an update with
  ``accept = False`` is rejected (the last good parameters and state are kept). It runs chunks that end
  before ``C`` steps (at an evaluation, a checkpoint or the phase end), updaters that stop on their own
  (L-BFGS), and the replay of a fast chunk that hit a non-finite loss: same keys and batches, so the same
  trajectory, stopped exactly before the bad update.

Inside a step: the batch is gathered (or arrives whole when streamed), the loss weights are scheduled at the
global step, the updater steps, the EMA of the parameters is updated, and ``trace_fn`` is evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp

from pinngen.core.weights import scheduled


@dataclass(frozen=True)
class EMAPlan:
    decay: float
    start: int


def ema_update(ema, params, step, plan: EMAPlan | None):
    """``decay * ema + (1 - decay) * params`` from global step ``start`` on; before it, the EMA tracks the
    parameters exactly (averaging the first, fast-moving steps would only drag in the initialisation)."""
    if plan is None:
        return ema
    on = step >= plan.start
    return jax.tree_util.tree_map(lambda e, p: jnp.where(on, plan.decay * e + (1 - plan.decay) * p, p), ema, params)


def _select(ok, new, old):
    return jax.tree_util.tree_map(lambda a, b: jnp.where(ok, a, b), new, old)


def _nan_like(shapes):
    def fill(s):
        if jnp.issubdtype(s.dtype, jnp.floating):
            return jnp.full(s.shape, jnp.nan, s.dtype)
        return jnp.zeros(s.shape, s.dtype)

    return jax.tree_util.tree_map(fill, shapes)


def make_chunks(updater, *, sampler=None, stream: bool = False, schedules: dict | None = None,
                trace_fn: Callable | None = None, ema: EMAPlan | None = None, record_weights=(),
                constrain: Callable | None = None):
    """``(fast, guarded)`` jitted chunk functions for one phase.

    ``fast(params, ustate, ema, data, weights, xs)`` and ``guarded(..., xs, limit)`` both return
    ``(params, ustate, ema, code, outs)``; ``xs = (phase_step (C,), global_step (C,), sampler_inputs, keys)``.
    ``constrain`` (data parallelism) lays each step's minibatch out over the devices along its sample axis.
    """
    schedules = schedules or {}

    def one_step(params, ustate, data, weights, x):
        i, g, sx, key = x
        if sampler is None:
            batch = data
        elif stream:
            batch = sx
        else:
            batch = sampler.gather(data, sx)
        if constrain is not None and sampler is not None:
            batch = constrain(batch)
        w = scheduled(weights, schedules, g)
        params, ustate, logs = updater.step(params, ustate, batch, key, w, i)
        return params, ustate, logs, {n: w[n] for n in record_weights}

    def outputs(logs, w, params, executed):
        out = dict(total=logs["loss"], terms=logs["terms"], grad_norm=logs["grad_norm"], lr=logs["lr"],
                   executed=executed, trace=trace_fn(params) if trace_fn is not None else {}, weights=w)
        for key in ("terms_logged", "objectives", "lrs", "grad_norms"):
            if key in logs:
                out[key] = logs[key]
        return out

    def fast(params, ustate, ema_params, data, weights, xs):
        def body(carry, x):
            params, ustate, ema_params, code = carry
            params, ustate, logs, w = one_step(params, ustate, data, weights, x)
            ema_params = ema_update(ema_params, params, x[1], ema)
            code = jnp.where(code != 0, code, logs["code"]).astype(jnp.int32)
            return (params, ustate, ema_params, code), outputs(logs, w, params, jnp.bool_(True))

        (params, ustate, ema_params, code), outs = jax.lax.scan(body, (params, ustate, ema_params, jnp.int32(0)), xs)
        return params, ustate, ema_params, code, outs

    def guarded(params, ustate, ema_params, data, weights, xs, limit):
        def body(carry, x):
            params, ustate, ema_params, code = carry

            def run(operand):
                p0, s0, e0 = operand
                p1, s1, logs, w = one_step(p0, s0, data, weights, x)
                ok = logs["accept"]
                p1, s1 = _select(ok, p1, p0), _select(ok, s1, s0)
                e1 = _select(ok, ema_update(e0, p1, x[1], ema), e0)
                return (p1, s1, e1), logs, w

            def skip(operand):
                logs, w = _nan_like(jax.eval_shape(lambda o: run(o)[1:], operand))
                return operand, {**logs, "code": code}, w

            active = (x[0] < limit) & (code == 0)
            (params, ustate, ema_params), logs, w = jax.lax.cond(active, run, skip, (params, ustate, ema_params))
            code = jnp.where(active, logs["code"], code).astype(jnp.int32)
            return (params, ustate, ema_params, code), outputs(logs, w, params, active)

        carry = (params, ustate, ema_params, jnp.int32(0))
        (params, ustate, ema_params, code), outs = jax.lax.scan(body, carry, xs)
        return params, ustate, ema_params, code, outs

    return eqx.filter_jit(fast), eqx.filter_jit(guarded)
