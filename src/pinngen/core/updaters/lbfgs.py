"""L-BFGS on the full batch with a zoom line search, and its stopping tolerances. The same updater runs the
dense quasi-Newton optimizers (bfgs, ssbfgs, ssbroyden: :mod:`pinngen.core.quasi_newton`), whose transform
also takes the line search's value, gradient and value_fn.

Stop codes: 1 non-finite loss or gradient (also a line search that ends on a non-finite value),
2 ``grad_tol`` (gradient norm below ``tol_grad``), 3 ``loss_change_tol`` (relative loss change below
``tol_change`` for ``patience`` consecutive steps), 4 ``line_search_failed`` (no decrease for ``patience``
consecutive steps).

L-BFGS accepts a step that does not lower the loss, as optax and PyTorch do: in float32 single failed line
searches are common near a minimum and the next iteration, with updated curvature pairs, usually moves on;
stopping at the first one ended Burgers runs after 6-7 steps (measured). The counters live in the state,
so a resumed run stops where an uninterrupted one would.

After a collocation redraw the loop calls ``new_objective``: the stored value and gradient are dropped, the
curvature memory is carried over (the first pair after it mixes the two sets, like the resampled quasi-Newton
runs of Urbán, Stefanou & Pons 2025; the dense updates check it).

The individual loss terms are evaluated every ``LBFGS_TERMS_EVERY`` iterations, at the phase's last iteration
and at the iteration that stops the phase (``terms_logged`` False, terms NaN elsewhere): the line search only
needs the total, so the terms cost one more forward pass, ~25 % of an iteration on Burgers (one core:
5.2-6.2 -> 4.2-4.3 ms). The total is recorded at every iteration.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from optax import tree_utils as otu

from pinngen.core.quasi_newton import dense_meta
from pinngen.core.updaters.base import finite

LBFGS_TERMS_EVERY = 10


class LBFGSUpdater:
    full_batch = True
    stops_early = True
    batches_per_step = 1
    objectives = None

    def __init__(self, total_fn: Callable, tx: optax.GradientTransformation, *, steps: int, tol_grad: float,
                 tol_change: float, patience: int):
        self.total_fn, self.tx = total_fn, tx
        self.steps, self.tol_grad, self.tol_change, self.patience = steps, tol_grad, tol_change, patience

    def init(self, params):
        dtype = jax.tree_util.tree_leaves(params)[0].dtype
        # (optax state, previous loss, [steps with a tiny change, steps without a decrease])
        return self.tx.init(params), jnp.asarray(jnp.inf, dtype), jnp.zeros(2, jnp.int32)

    def step(self, params, state, batch, key, weights, step):
        opt_state, prev_value, stall = state

        def value_fn(p):
            return self.total_fn(p, batch, None, weights)[0]

        value, grad = optax.value_and_grad_from_state(value_fn)(params, state=opt_state)
        gnorm = optax.tree.norm(grad)
        updates, new_state = self.tx.update(grad, opt_state, params, value=value, grad=grad, value_fn=value_fn)
        new_value = otu.tree_get(new_state, "value")
        ok = finite(value, gnorm, new_value)
        rel = jnp.abs(prev_value - value) / jnp.maximum(jnp.abs(value), 1e-30)
        stall = jnp.stack([jnp.where(rel <= self.tol_change, stall[0] + 1, 0),
                           jnp.where(new_value < value, 0, stall[1] + 1)]).astype(jnp.int32)
        code = jnp.select([~ok, gnorm <= self.tol_grad, stall[1] >= self.patience, stall[0] >= self.patience],
                          [1, 2, 4, 3], 0).astype(jnp.int32)
        log_terms = (step % LBFGS_TERMS_EVERY == 0) | (step == self.steps - 1) | (code != 0)
        nan_terms = {n: jnp.full((), jnp.nan, value.dtype) for n in weights}
        terms = jax.lax.cond(log_terms, lambda p: self.total_fn(p, batch, None, weights)[1],
                             lambda p: nan_terms, params)
        logs = dict(loss=value, terms=terms, terms_logged=log_terms, grad_norm=gnorm,
                    lr=jnp.asarray(otu.tree_get(new_state, "learning_rate"), value.dtype), accept=ok, code=code)
        return optax.apply_updates(params, updates), (new_state, value, stall), logs

    def new_objective(self, state):
        """The state to go on with after the loop replaced the batch (a collocation redraw): the value and
        gradient the line search stored belong to the old set, so they are dropped (the next step evaluates
        both on the new set) together with the stall counters; the curvature memory (L-BFGS pairs, or the
        dense inverse Hessian, which is checked and reset when it loses positive definiteness) is kept."""
        opt_state, prev_value, _ = state
        inf = jnp.full_like(otu.tree_get(opt_state, "value"), jnp.inf)
        return otu.tree_set(opt_state, value=inf), jnp.full_like(prev_value, jnp.inf), jnp.zeros(2, jnp.int32)

    def phase_meta(self, state) -> dict:
        """What the phase's record adds (a dense inverse Hessian's size, resets and skipped pairs)."""
        return dense_meta(state[0])
