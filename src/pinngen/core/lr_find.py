"""Learning-rate range test (Smith 2017, "Cyclical learning rates", Sec. 3.3).

The learning rate grows geometrically from ``lr_min`` to ``lr_max`` over a short run; the loss is
recorded at every step. The suggestion is the learning rate where the smoothed loss falls fastest (the
steepest negative slope of loss vs log lr), taken before the loss starts to blow up, and at most a tenth of
the learning rate at the loss minimum. The cap is measured, not folklore: on quadratics whose stable range
is known in closed form (gradient descent diverges above 2 / max curvature), divergence shows in the loss
only some 20 steps after it starts, by when a geometric sweep has moved the rate ~3x; the steepest slope
then sits ~3x *above* the stability limit, the minimum / 10 inside it (tests/core/test_lr_find.py). The
optimizer matters:
the right learning rate for SGD is not the one for Adam, so the test uses the experiment's first phase
optimizer unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from pinngen.core.batching import BatchingSpec, make_sampler
from pinngen.core.chunk import make_chunks
from pinngen.core.nn import trainable_filter
from pinngen.core.optim import Phase, is_quasi_newton, make_transform
from pinngen.core.updaters import GradientUpdater, weighted_total
from pinngen.core.weights import schedule_fns


@dataclass(frozen=True)
class LRFindResult:
    lrs: np.ndarray  # (steps,)
    losses: np.ndarray  # (steps,) raw weighted loss at each step
    smoothed: np.ndarray  # (steps,)
    suggestion: float
    stopped_at: int  # index where the loss exceeded `blowup` x its minimum (or len)


def lr_find(model, data, loss_terms, *, optimizer: str = "adam", lr_min: float = 1e-7, lr_max: float = 10.0,
            steps: int = 200, batch_size: int | None = None, seed: int = 0, smooth: float = 0.9,
            blowup: float = 4.0, phase: Phase | None = None, weights: Mapping[str, float] | None = None,
            weight_schedules: Mapping | None = None, batching: BatchingSpec | None = None) -> LRFindResult:
    """Sweep the learning rate through the training loop's own step (same updater, loss weights, weight
    schedules, sampler); returns the curve and the suggested learning rate.

    ``phase`` (optional) supplies the optimizer with its arguments, clipping and weight decay; its ``lr``
    and schedule are replaced by the sweep."""
    if not 0 < lr_min < lr_max:
        raise ValueError(f"lr_min={lr_min}, lr_max={lr_max}: need 0 < lr_min < lr_max")
    if steps < 10:
        raise ValueError(f"steps={steps}: need at least 10 steps for a range test")
    spec = phase if phase is not None else Phase(optimizer=optimizer)
    if is_quasi_newton(spec.optimizer) or spec.groups:
        why = " (it chooses its own step by line search)" if is_quasi_newton(spec.optimizer) else ""
        raise ValueError(f"optimizer={spec.label!r}: a range test needs one first-order optimizer{why}")
    spec = spec.model_copy(update={"lr": 1.0, "schedule": "constant", "warmup_steps": 0, "steps": steps})
    lrs = np.geomspace(lr_min, lr_max, steps)
    sweep = jnp.asarray(lrs)
    base, _ = make_transform(spec, steps)
    # Optimizers here are linear in their learning rate, so lr = 1 followed by a scale is the same update.
    tx = optax.chain(base, optax.scale_by_schedule(lambda i: sweep[jnp.minimum(i, steps - 1)]))
    params, static = eqx.partition(model, trainable_filter(model))
    sampler, idx, example = None, None, data
    if batch_size and data is not None:
        sampler = make_sampler(batching or BatchingSpec(), batch_size=batch_size)
        idx = sampler.host_inputs(sampler.check(data), seed, 0, 0, steps)
        example = sampler.host_gather(data, idx[0])
    probe = eqx.filter_eval_shape(loss_terms, model, example, jax.random.PRNGKey(0))
    names = tuple(sorted(probe))
    dtype = jax.tree_util.tree_leaves(probe)[0].dtype
    unknown = sorted(set(weights or {}) - set(names))
    if unknown:
        raise ValueError(f"weights name unknown loss terms {unknown}; the terms are {list(names)}")
    w = {n: jnp.asarray((weights or {}).get(n, 1.0), dtype) for n in names}
    updater = GradientUpdater(weighted_total(loss_terms, static, names), tx, lambda i: sweep[i])
    data = jax.tree_util.tree_map(jnp.asarray, data) if data is not None else None
    idx = jnp.asarray(idx) if idx is not None else None
    _, guarded = make_chunks(updater, sampler=sampler, schedules=schedule_fns(weight_schedules, names))
    ii = jnp.arange(steps, dtype=jnp.int32)
    keys = jax.vmap(jax.random.fold_in, in_axes=(None, 0))(jax.random.PRNGKey(seed), ii)
    # guarded: a step whose loss is already non-finite ends the sweep instead of feeding NaNs onwards
    *_, outs = guarded(params, updater.init(params), None, data, w, (ii, ii, idx, keys), jnp.int32(steps))
    losses = np.asarray(outs["total"], dtype=np.float64)
    losses = np.where(np.asarray(outs["executed"]), losses, np.inf)
    return _analyse(lrs, losses, smooth, blowup)


def _analyse(lrs, losses, smooth, blowup) -> LRFindResult:
    sm = np.empty_like(losses)
    avg = 0.0
    for i, v in enumerate(np.where(np.isfinite(losses), losses, np.inf)):
        avg = smooth * avg + (1 - smooth) * v
        sm[i] = avg / (1 - smooth ** (i + 1))  # bias-corrected exponential moving average
    best = np.minimum.accumulate(sm)
    bad = np.nonzero(~np.isfinite(sm) | (sm > blowup * best))[0]
    stop = int(bad[0]) if bad.size else len(sm)
    usable = max(stop, 3)
    slope = np.gradient(np.log(np.maximum(sm[:usable], 1e-300)), np.log(lrs[:usable]))
    # Skip the first tenth, where the moving average is still warming up.
    start = max(1, usable // 10)
    i = start + int(np.argmin(slope[start:usable])) if usable > start else 0
    at_min = float(lrs[int(np.argmin(sm[:usable]))])
    return LRFindResult(lrs, losses, sm, min(float(lrs[i]), at_min / 10), stop)
