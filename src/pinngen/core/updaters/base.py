"""The update-step protocol shared by every optimizer of the training loop.

An updater is ``init(params) -> state`` and ``step(params, state, batch, key, weights, step) ->
(params, state, logs)``, pure and traceable: the loop scans it inside one jitted chunk. ``params`` is the
trainable partition of the model; ``weights`` maps each loss term to its (already scheduled) weight;
``step`` is the step index within the phase (what learning-rate schedules count).

``logs`` holds scalars: ``loss`` (the weighted objective), ``terms`` (each unweighted term), ``grad_norm``,
``lr``, ``accept`` (False: the loop keeps the previous parameters and state) and ``code`` (0 to go on, else a
key of :data:`STOP_REASONS`), and optionally ``terms_logged`` (False where the terms were not evaluated),
``objectives``, ``lrs`` and ``grad_norms`` (one scalar per parameter group).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import equinox as eqx
import jax.numpy as jnp

STOP_REASONS = {0: "max_steps", 1: "non_finite", 2: "grad_tol", 3: "loss_change_tol", 4: "line_search_failed"}


class Updater(Protocol):
    #: needs the whole data set at every step (no minibatches)
    full_batch: bool
    #: may end the phase on its own (tolerances): the loop then always uses the guarded chunk
    stops_early: bool
    #: minibatches each step consumes (each inner update of a parameter group sees a fresh one)
    batches_per_step: int
    #: objective name -> its loss terms, for per-objective curves (None: one objective, ``loss``)
    objectives: dict[str, tuple[str, ...]] | None

    def init(self, params) -> Any: ...

    def step(self, params, state, batch, key, weights, step) -> tuple[Any, Any, dict]: ...


def combined_terms(loss_terms: Callable, static, names: tuple[str, ...]):
    """``f(params, batch, key) -> terms``: the model's named loss terms, checked once at trace time."""

    def f(params, batch, key):
        terms = loss_terms(eqx.combine(params, static), batch, key)
        if set(terms) != set(names):
            raise ValueError(f"loss_terms returned terms {sorted(terms)}, expected {list(names)}")
        for name, value in terms.items():
            if jnp.ndim(value) != 0:
                raise ValueError(f"loss term {name!r} has shape {jnp.shape(value)}; each term must be a scalar")
        return terms

    return f


def weighted_total(loss_terms: Callable, static, names: tuple[str, ...]):
    """``f(params, batch, key, weights) -> (total, terms)`` with total = sum_i w_i * term_i."""
    terms_fn = combined_terms(loss_terms, static, names)

    def f(params, batch, key, weights):
        terms = terms_fn(params, batch, key)
        return sum(weights[n] * terms[n] for n in names), terms

    return f


def finite(*xs) -> jnp.ndarray:
    out = jnp.bool_(True)
    for x in xs:
        out = out & jnp.isfinite(x)
    return out


def lr_at(schedule: Callable | None, count, dtype) -> jnp.ndarray:
    """The learning rate a schedule gives at ``count``; NaN when unknown (a user-supplied transform)."""
    if schedule is None:
        return jnp.full((), jnp.nan, dtype)
    return jnp.asarray(schedule(count), dtype)
