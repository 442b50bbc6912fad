"""First-order steps with any Optax transform (Adam, SGD, Lion, ...), on a minibatch or the full batch."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from pinngen.core.updaters.base import finite, lr_at


class GradientUpdater:
    """``params <- params + tx.update(grad of the weighted objective)``. A non-finite loss or gradient sets
    ``accept = False`` and stop code 1 (the loop keeps the last good parameters)."""

    full_batch = False
    stops_early = False
    batches_per_step = 1
    objectives = None

    def __init__(self, total_fn: Callable, tx: optax.GradientTransformation, schedule: Callable | None):
        self.total_fn, self.tx, self.schedule = total_fn, tx, schedule

    def init(self, params):
        return self.tx.init(params)

    def step(self, params, state, batch, key, weights, step):
        (total, terms), grads = jax.value_and_grad(self.total_fn, has_aux=True)(params, batch, key, weights)
        gnorm = optax.tree.norm(grads)
        updates, new_state = self.tx.update(grads, state, params)
        ok = finite(total, gnorm)
        logs = dict(loss=total, terms=terms, grad_norm=gnorm, lr=lr_at(self.schedule, step, total.dtype),
                    accept=ok, code=jnp.where(ok, 0, 1).astype(jnp.int32))
        return optax.apply_updates(params, updates), new_state, logs
