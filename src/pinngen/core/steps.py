"""Jitted chunks of optimizer steps (one compiled function per phase).

A chunk runs ``C`` steps in one ``lax.scan`` and returns every step's loss terms, so the host syncs
once per chunk instead of once per step. Steps past the phase's limit, or after the phase stopped
(non-finite loss, L-BFGS tolerance), are masked no-ops, so every chunk of a phase has one static shape
and compiles once.

Stop codes (per step; 0 while running):
1 ``non_finite`` loss or gradient (the update is rejected, the last good parameters are kept),
2 ``grad_tol`` (L-BFGS gradient norm below ``tol_grad``),
3 ``loss_change_tol`` (L-BFGS relative loss change below ``tol_change`` for ``patience`` consecutive steps),
4 ``line_search_failed`` (L-BFGS line search did not decrease the loss for ``patience`` consecutive steps).

L-BFGS accepts a step that does not lower the loss, as optax and PyTorch do: in float32 single failed line
searches are common near a minimum and the next iteration, with updated curvature pairs, usually moves on;
stopping at the first one ended Burgers runs after 6-7 steps (measured).

L-BFGS logs the individual loss terms every ``LBFGS_TERMS_EVERY`` iterations, at a chunk's last iteration and
at the iteration that stops the phase (NaN, "not recorded", elsewhere): the line search only needs the total,
so the terms cost one more forward pass, ~25 % of an iteration on Burgers (one core: 5.2-6.2 -> 4.2-4.3 ms).
The total loss is recorded at every iteration.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from optax import tree_utils as otu

STOP_REASONS = {0: "max_steps", 1: "non_finite", 2: "grad_tol", 3: "loss_change_tol", 4: "line_search_failed"}
LBFGS_TERMS_EVERY = 10


def weighted_total(loss_terms: Callable, static, names: tuple[str, ...]):
    """``f(params, batch, key, weights) -> (total, terms)`` with total = sum_i w_i * term_i."""

    def f(params, batch, key, weights):
        model = eqx.combine(params, static)
        terms = loss_terms(model, batch, key)
        if tuple(sorted(terms)) != names:
            raise ValueError(f"loss_terms returned terms {sorted(terms)}, expected {list(names)}")
        for name, value in terms.items():
            if jnp.ndim(value) != 0:
                raise ValueError(f"loss term {name!r} has shape {jnp.shape(value)}; each term must be a scalar")
        total = sum(weights[n] * terms[n] for n in names)
        return total, terms

    return f


def _select(ok, new, old):
    return jax.tree_util.tree_map(lambda a, b: jnp.where(ok, a, b), new, old)


def _gather(data, idx):
    if idx is None or data is None:
        return data
    return jax.tree_util.tree_map(lambda a: a[idx], data)


def gradient_chunk(total_fn, opt: optax.GradientTransformation, sched, trace_fn=None, *, masked: bool = True):
    """Chunk of first-order steps (Adam, SGD, ...). Returns a jitted function.

    ``masked=False`` is the fast path for a full chunk: every step runs, with no per-step branch or
    parameter select. Its returned code is non-zero if any step saw a non-finite loss; the caller then
    re-runs the same chunk with ``masked=True``, which stops exactly before the bad update (same keys and
    batches, so the same trajectory) and keeps the last good parameters.
    """

    def grad_step(params, opt_state, batch, key, weights):
        (total, terms), grads = jax.value_and_grad(total_fn, has_aux=True)(params, batch, key, weights)
        gnorm = optax.tree.norm(grads)
        updates, new_state = opt.update(grads, opt_state, params)
        ok = jnp.isfinite(total) & jnp.isfinite(gnorm)
        return optax.apply_updates(params, updates), new_state, total, terms, gnorm, ok

    def fast(params, opt_state, data, weights, xs, limit):
        def step(carry, x):
            params, opt_state, code = carry
            i, idx, key = x
            params, opt_state, total, terms, gnorm, ok = grad_step(params, opt_state, _gather(data, idx), key,
                                                                   weights)
            trace = trace_fn(params) if trace_fn is not None else {}
            out = dict(total=total, terms=terms, grad_norm=gnorm, lr=sched(i), executed=i >= 0, trace=trace)
            return (params, opt_state, jnp.where(ok, code, 1).astype(jnp.int32)), out

        (params, opt_state, code), outs = jax.lax.scan(step, (params, opt_state, jnp.int32(0)), xs)
        return params, opt_state, code, outs

    def chunk(params, opt_state, data, weights, xs, limit):
        def step(carry, x):
            params, opt_state, code = carry
            i, idx, key = x

            def run(operand):
                params, opt_state = operand
                new_params, new_state, total, terms, gnorm, ok = grad_step(params, opt_state, _gather(data, idx),
                                                                           key, weights)
                params = _select(ok, new_params, params)
                opt_state = _select(ok, new_state, opt_state)
                return params, opt_state, total, terms, gnorm, jnp.where(ok, 0, 1).astype(jnp.int32)

            def skip(operand):
                params, opt_state = operand
                terms = jax.tree_util.tree_map(lambda w: jnp.full((), jnp.nan, w.dtype), weights)
                nan = jnp.full((), jnp.nan, jax.tree_util.tree_leaves(weights)[0].dtype)
                return params, opt_state, nan, terms, nan, code

            active = (i < limit) & (code == 0)
            params, opt_state, total, terms, gnorm, new_code = jax.lax.cond(active, run, skip, (params, opt_state))
            trace = trace_fn(params) if trace_fn is not None else {}
            out = dict(total=total, terms=terms, grad_norm=gnorm, lr=sched(i), executed=active, trace=trace)
            return (params, opt_state, jnp.where(active, new_code, code)), out

        (params, opt_state, code), outs = jax.lax.scan(step, (params, opt_state, jnp.int32(0)), xs)
        return params, opt_state, code, outs

    return eqx.filter_jit(chunk if masked else fast)


def lbfgs_chunk(total_fn, opt, phase, trace_fn=None):
    """Chunk of L-BFGS steps with a zoom line search on the full batch; honours the tolerances."""
    tol_grad, tol_change, patience = phase.tol_grad, phase.tol_change, phase.patience

    def chunk(params, opt_state, data, weights, xs, limit, prev_value, stall):
        def value_fn(p):
            return total_fn(p, data, None, weights)[0]

        value_and_grad = optax.value_and_grad_from_state(value_fn)

        last = xs[0][-1]

        def nan_terms(_):
            return jax.tree_util.tree_map(lambda w: jnp.full((), jnp.nan, w.dtype), weights)

        def step(carry, x):
            params, opt_state, code, prev_value, stall = carry
            i, _, _ = x

            def run(operand):
                params, opt_state, prev_value, stall = operand
                value, grad = value_and_grad(params, state=opt_state)
                gnorm = optax.tree.norm(grad)
                updates, new_state = opt.update(grad, opt_state, params, value=value, grad=grad, value_fn=value_fn)
                new_params = optax.apply_updates(params, updates)
                new_value = otu.tree_get(new_state, "value")
                finite = jnp.isfinite(value) & jnp.isfinite(gnorm)
                decreased = new_value < value
                rel = jnp.abs(prev_value - value) / jnp.maximum(jnp.abs(value), 1e-30)
                # stall: [consecutive steps with a tiny change, consecutive steps without a decrease]
                stall = jnp.stack([jnp.where(rel <= tol_change, stall[0] + 1, 0),
                                   jnp.where(decreased, 0, stall[1] + 1)]).astype(jnp.int32)
                new_code = jnp.select(
                    [~finite, gnorm <= tol_grad, stall[1] >= patience, stall[0] >= patience], [1, 2, 4, 3], 0
                ).astype(jnp.int32)
                log_terms = (i % LBFGS_TERMS_EVERY == 0) | (i == last) | (i == limit - 1) | (new_code != 0)
                terms = jax.lax.cond(log_terms, lambda p: total_fn(p, data, None, weights)[1], nan_terms, params)
                accept = finite & jnp.isfinite(new_value)
                params = _select(accept, new_params, params)
                opt_state = _select(accept, new_state, opt_state)
                return (params, opt_state, value, stall), (value, terms, log_terms, gnorm, new_code)

            def skip(operand):
                nan = jnp.full((), jnp.nan, prev_value.dtype)
                return operand, (nan, nan_terms(None), jnp.bool_(False), nan, code)

            active = (i < limit) & (code == 0)
            (params, opt_state, prev_value, stall), (total, terms, logged, gnorm, new_code) = jax.lax.cond(
                active, run, skip, (params, opt_state, prev_value, stall)
            )
            trace = trace_fn(params) if trace_fn is not None else {}
            lr = otu.tree_get(opt_state, "learning_rate")
            out = dict(total=total, terms=terms, terms_logged=logged, grad_norm=gnorm, lr=lr, executed=active,
                       trace=trace)
            code = jnp.where(active, new_code, code)
            return (params, opt_state, code, prev_value, stall), out

        carry = (params, opt_state, jnp.int32(0), prev_value, stall)
        (params, opt_state, code, prev_value, stall), outs = jax.lax.scan(step, carry, xs)
        return params, opt_state, code, outs, prev_value, stall

    return eqx.filter_jit(chunk)


def eval_terms(total_fn):
    """Jitted deterministic evaluation (no dropout: key=None) of the weighted total and the terms."""

    def f(params, batch, weights):
        return total_fn(params, batch, None, weights)

    return eqx.filter_jit(f)
