"""Learning-rate range test (Smith 2017, "Cyclical learning rates", Sec. 3.3).

The learning rate grows geometrically from ``lr_min`` to ``lr_max`` over a short run; the loss is
recorded at every step. The suggestion is the learning rate where the smoothed loss falls fastest (the
steepest negative slope of loss vs log lr), taken before the loss starts to blow up. The optimizer matters:
the right learning rate for SGD is not the one for Adam, so the test uses the experiment's first phase
optimizer unless told otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from pinngen.core.nn import trainable_filter
from pinngen.core.optim import Phase, make_optimizer
from pinngen.core.train import _batch_indices


@dataclass(frozen=True)
class LRFindResult:
    lrs: np.ndarray  # (steps,)
    losses: np.ndarray  # (steps,) raw loss at each step
    smoothed: np.ndarray  # (steps,)
    suggestion: float
    stopped_at: int  # index where the loss exceeded `blowup` x its minimum (or len)


def lr_find(model, data, loss_terms, *, optimizer: str = "adam", lr_min: float = 1e-7, lr_max: float = 10.0,
            steps: int = 200, batch_size: int | None = None, seed: int = 0, smooth: float = 0.9,
            blowup: float = 4.0) -> LRFindResult:
    """Sweep the learning rate; returns the curve and the suggested learning rate."""
    if not 0 < lr_min < lr_max:
        raise ValueError(f"lr_min={lr_min}, lr_max={lr_max}: need 0 < lr_min < lr_max")
    if steps < 10:
        raise ValueError(f"steps={steps}: need at least 10 steps for a range test")
    if optimizer == "lbfgs":
        raise ValueError("optimizer='lbfgs' chooses its own step by line search; a range test does not apply")
    lrs = np.geomspace(lr_min, lr_max, steps)
    phase = Phase(optimizer=optimizer, steps=steps, lr=1.0)
    base, _ = make_optimizer(phase)
    opt = optax.chain(base, optax.scale_by_schedule(lambda i: jnp.asarray(lrs)[i]))
    params, static = eqx.partition(model, trainable_filter(model))
    data = jax.tree_util.tree_map(jnp.asarray, data) if data is not None else None

    def total(p, batch, key):
        terms = loss_terms(eqx.combine(p, static), batch, key)
        return sum(terms.values())

    @eqx.filter_jit
    def sweep(params, idx, keys):
        def step(carry, x):
            p, s = carry
            i, key = x
            batch = jax.tree_util.tree_map(lambda a: a[i], data) if i is not None else data
            loss, g = jax.value_and_grad(total)(p, batch, key)
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), loss

        _, losses = jax.lax.scan(step, (params, opt.init(params)), (idx, keys))
        return losses

    n = jax.tree_util.tree_leaves(data)[0].shape[0] if (batch_size and data is not None) else 0
    idx = jnp.asarray(_batch_indices(n, min(batch_size, n), seed, 0, 0, steps)) if n else None
    keys = jax.random.split(jax.random.PRNGKey(seed), steps)
    losses = np.asarray(sweep(params, idx, keys), dtype=np.float64)
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
    return LRFindResult(lrs, losses, sm, float(lrs[i]), stop)
