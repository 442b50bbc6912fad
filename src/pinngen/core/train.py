"""The one training loop for every model family.

``fit(model, data, config, loss_terms=...) -> (model, History)``. ``loss_terms(model, batch, key)`` returns a
dict of named scalar terms; the objective is their weighted sum. Each optimizer phase is one jitted chunk
of ``eval_every`` steps (see :mod:`pinngen.core.steps`); between chunks the host evaluates validation
data, early stopping, callbacks, checkpoints and the progress bar.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pinngen.core import steps as S
from pinngen.core.history import History
from pinngen.core.nn import trainable_filter
from pinngen.core.optim import EarlyStopping, Phase, make_optimizer

log = logging.getLogger(__name__)


class TrainConfig(BaseModel):
    """Hyperparameters of the loop itself (the phases carry the optimizer settings)."""

    model_config = ConfigDict(extra="forbid")
    phases: list[Phase] = Field(default_factory=lambda: [Phase()])
    eval_every: int = Field(100, ge=1, description="steps per jitted chunk; validation runs after each")
    early_stopping: EarlyStopping | None = None
    checkpoint_every: int | None = Field(1000, ge=1, description="steps between resumable checkpoints "
                                         "(written when fit has a checkpoint_dir, as every `pinngen run` does)")
    progress: bool = True


@dataclass
class TrainState:
    """What a callback sees after each chunk. Setting ``stop = True`` ends training."""

    model: eqx.Module
    step: int
    phase: int
    history: History
    stop: bool = False
    extra: dict = field(default_factory=dict)


def _as_device(data):
    if data is None:
        return None
    return jax.tree_util.tree_map(jnp.asarray, data)


def _data_size(data) -> int:
    leaves = jax.tree_util.tree_leaves(data)
    if not leaves:
        raise ValueError("minibatches need data: pass a dict of arrays with the same first dimension")
    n = leaves[0].shape[0]
    for leaf in leaves:
        if leaf.shape[0] != n:
            raise ValueError(f"data arrays disagree on the number of samples: {leaf.shape[0]} vs {n}")
    return n


def _batch_indices(n, batch, seed, phase_index, start, count):
    """Indices (count, batch) for steps start..start+count of a phase: seeded epoch permutations."""
    per_epoch = max(n // batch, 1)
    out = np.empty((count, batch), dtype=np.int32)
    cache = {}
    for j in range(count):
        epoch, pos = divmod(start + j, per_epoch)
        if epoch not in cache:
            cache[epoch] = np.random.default_rng([seed, phase_index, epoch]).permutation(n)
        out[j] = cache[epoch][pos * batch : (pos + 1) * batch]
    return out


def fit(
    model: eqx.Module,
    data=None,
    config: TrainConfig | Mapping | None = None,
    *,
    loss_terms: Callable | None = None,
    key: jax.Array | None = None,
    seed: int = 0,
    weights: Mapping[str, float] | None = None,
    val_data=None,
    metrics_fn: Callable[[eqx.Module], Mapping[str, float]] | None = None,
    trace_fn: Callable[[eqx.Module], Mapping[str, jax.Array]] | None = None,
    refresh: Callable | None = None,
    weight_update: Callable | None = None,
    callbacks: tuple[Callable[[TrainState], None], ...] = (),
    context: Mapping | None = None,
    checkpoint_dir=None,
    resume: bool = False,
) -> tuple[eqx.Module, History]:
    """Train ``model`` and return it with its History.

    Args:
        data: a pytree of arrays (dict of ``(n, ...)`` arrays) or None. Phases with ``batch_size`` draw
            seeded minibatches (epoch permutations, last partial batch dropped to keep shapes static);
            otherwise the whole pytree is the batch.
        loss_terms: ``(model, batch, key) -> {name: scalar}``; defaults to ``model.loss_terms``.
        weights: fixed weight per term (default 1).
        val_data: evaluated with ``key=None`` after each chunk; recorded as ``val/loss`` and ``val/loss/<term>``.
        metrics_fn: ``model -> {name: float}`` after each chunk, recorded as ``metric/<name>``.
        trace_fn: ``model -> {name: scalar}`` traced inside every step (e.g. identified PDE parameters).
        refresh: ``(step, key, model) -> batch | None`` before each chunk (collocation resampling);
            the new batch must keep the shapes.
        weight_update: ``(model, batch, weights, step) -> weights`` before each chunk (adaptive weighting).
        callbacks: called with a :class:`TrainState` after each chunk.
        checkpoint_dir / resume: resumable checkpoints (see :mod:`pinngen.core.checkpoint`).
    """
    from pinngen.core import checkpoint as ckpt

    cfg = config if isinstance(config, TrainConfig) else TrainConfig.model_validate(config or {})
    if any(p.epochs for p in cfg.phases):
        n = _data_size(data)
        cfg = cfg.model_copy(update={"phases": [p.resolved(n) for p in cfg.phases]})
    loss_terms = loss_terms or type(model).loss_terms
    key = jax.random.PRNGKey(seed) if key is None else key
    params, static = eqx.partition(model, trainable_filter(model))
    data = _as_device(data)
    val_data = _as_device(val_data)

    probe = eqx.filter_eval_shape(lambda m, b, k: loss_terms(m, b, k), model, data, key)
    names = tuple(sorted(probe))
    dtype = jax.tree_util.tree_leaves(probe)[0].dtype if probe else jnp.float32
    w = {n: jnp.asarray((weights or {}).get(n, 1.0), dtype) for n in names}
    unknown = set(weights or {}) - set(names)
    if unknown:
        raise ValueError(f"weights name unknown loss terms {sorted(unknown)}; the terms are {list(names)}")
    total_fn = S.weighted_total(loss_terms, static, names)
    traced = (lambda p: trace_fn(eqx.combine(p, static))) if trace_fn else None
    evaluate = S.eval_terms(total_fn)

    history = History()
    history.meta.update(context=dict(context or {}), phases=[], term_names=list(names))
    start_phase, start_step, global_step, opt_state0 = 0, 0, 0, None
    if resume and checkpoint_dir is not None and ckpt.exists(checkpoint_dir):
        params, opt_state0, history, info = ckpt.load_training(checkpoint_dir, params, cfg, history)
        start_phase, start_step, global_step = info["phase"], info["step_in_phase"], info["global_step"]
        w = {n: jnp.asarray(v, dtype) for n, v in info.get("weights", {}).items()} or w
        log.info("resumed from %s at step %d (phase %d)", checkpoint_dir, global_step, start_phase)

    total_steps = sum(p.steps for p in cfg.phases)
    bar = _progress(cfg.progress, total_steps, global_step)
    best = {"value": math.inf, "params": None, "step": None, "bad": 0}
    stopped_early = diverged = False

    for pi in range(start_phase, len(cfg.phases)):
        phase = cfg.phases[pi]
        opt, sched = make_optimizer(phase, dtype)
        opt_state = opt_state0 if (pi == start_phase and opt_state0 is not None) else opt.init(params)
        s = start_step if pi == start_phase else 0
        lbfgs = phase.optimizer == "lbfgs"
        chunk = (S.lbfgs_chunk(total_fn, opt, phase, traced) if lbfgs
                 else S.gradient_chunk(total_fn, opt, sched, traced, masked=True))
        fast = None if lbfgs else S.gradient_chunk(total_fn, opt, sched, traced, masked=False)
        n_data = _data_size(data) if phase.batch_size else 0
        batch = min(phase.batch_size, n_data) if phase.batch_size else 0
        prev_value, stall = jnp.asarray(jnp.inf, dtype), jnp.zeros(2, jnp.int32)
        C = min(cfg.eval_every, max(phase.steps, 1))
        reason = "max_steps"
        phase_key = jax.random.fold_in(key, pi)
        while s < phase.steps:
            model_now = eqx.combine(params, static)
            if refresh is not None:
                new = refresh(global_step, jax.random.fold_in(phase_key, 10_000_000 + s), model_now)
                if new is not None:
                    data = _as_device(new)
            if weight_update is not None:
                w = {n: jnp.asarray(v, dtype) for n, v in weight_update(model_now, data, w, global_step).items()}
            ii = jnp.arange(s, s + C, dtype=jnp.int32)
            idx = jnp.asarray(_batch_indices(n_data, batch, seed, pi, s, C)) if batch else None
            keys = jax.vmap(jax.random.fold_in, in_axes=(None, 0))(phase_key, ii)
            t0 = time.perf_counter()
            if lbfgs:
                params, opt_state, code, outs, prev_value, stall = chunk(
                    params, opt_state, data, w, (ii, idx, keys), phase.steps, prev_value, stall)
            elif s + C <= phase.steps:
                start = (params, opt_state)
                params, opt_state, code, outs = fast(params, opt_state, data, w, (ii, idx, keys), phase.steps)
                if int(code):  # a non-finite step: replay the chunk, stopping before the bad update
                    params, opt_state, code, outs = chunk(*start, data, w, (ii, idx, keys), phase.steps)
            else:
                params, opt_state, code, outs = chunk(params, opt_state, data, w, (ii, idx, keys), phase.steps)
            outs = jax.device_get(outs)
            n_run = int(np.sum(outs["executed"]))
            _record(history, outs, n_run, global_step, phase.label, time.perf_counter() - t0)
            s += n_run
            global_step += n_run
            code = int(code)
            if code:
                reason = S.STOP_REASONS[code]
            state = TrainState(eqx.combine(params, static), global_step, pi, history)
            _evaluate(state, evaluate, params, val_data, w, metrics_fn)
            if cfg.early_stopping and _early_stop(cfg.early_stopping, history, best, params):
                reason, stopped_early = "early_stopping", True
            for cb in callbacks:
                cb(state)
            if bar is not None:
                bar.update(n_run)
                bar.set_postfix(loss=f"{history.last('loss'):.3e}", phase=phase.label)
            if checkpoint_dir is not None and cfg.checkpoint_every and (
                    global_step // cfg.checkpoint_every != (global_step - n_run) // cfg.checkpoint_every):
                ckpt.save_training(checkpoint_dir, params, opt_state, history,
                                   dict(phase=pi, step_in_phase=s, global_step=global_step,
                                        weights={n: float(v) for n, v in w.items()}))
            if code or stopped_early or state.stop:
                reason = "callback" if state.stop and not code and not stopped_early else reason
                break
        history.meta["phases"].append(dict(optimizer=phase.optimizer, steps_run=s, steps_max=phase.steps,
                                           stop_reason=reason))
        log.info("phase %d (%s) ended after %d steps: %s", pi, phase.optimizer, s, reason)
        if reason == "non_finite":
            diverged = True
        if diverged or stopped_early or reason == "callback":
            break
        opt_state0 = None
    if bar is not None:
        bar.close()
    if stopped_early and cfg.early_stopping.restore_best and best["params"] is not None:
        params = best["params"]
        history.meta["restored_best_step"] = best["step"]
    history.meta["diverged"] = diverged
    return eqx.combine(params, static), history


def _record(history: History, outs, n_run: int, step0: int, phase: str, seconds: float) -> None:
    if n_run == 0:
        return
    start = history.last("time") if "time" in history else 0.0
    start = 0.0 if math.isnan(start) else start

    def fin(a):
        a = np.asarray(a, dtype=np.float64)[:n_run]
        return np.where(np.isfinite(a), a, np.inf)

    cols = {"loss": fin(outs["total"]), "lr": np.asarray(outs["lr"], np.float64)[:n_run],
            "grad_norm": fin(outs["grad_norm"])}
    logged = np.asarray(outs["terms_logged"], bool)[:n_run] if "terms_logged" in outs else None
    for name, values in outs["terms"].items():  # L-BFGS logs the terms sparsely: NaN = not recorded
        cols[f"loss/{name}"] = fin(values) if logged is None else np.where(logged, fin(values), np.nan)
    for name, values in outs["trace"].items():
        cols[name if "/" in name else f"trace/{name}"] = np.asarray(values, np.float64)[:n_run]
    cols["time"] = start + seconds * np.arange(1, n_run + 1) / n_run
    history.extend(np.arange(step0, step0 + n_run), phase, cols)


def _evaluate(state: TrainState, evaluate, params, val_data, weights, metrics_fn) -> None:
    values = {}
    if val_data is not None:
        total, terms = jax.device_get(evaluate(params, val_data, weights))
        values["val/loss"] = float(total) if np.isfinite(total) else math.inf
        for name, v in terms.items():
            values[f"val/loss/{name}"] = float(v) if np.isfinite(v) else math.inf
    if metrics_fn is not None:
        for name, v in metrics_fn(state.model).items():
            values[f"metric/{name}"] = float(v)
    if values and len(state.history):
        state.history.record(int(state.history.steps[-1]), values)


def _early_stop(es: EarlyStopping, history: History, best: dict, params) -> bool:
    if es.monitor not in history:
        raise ValueError(f"early_stopping.monitor={es.monitor!r} is not recorded; "
                         f"recorded: {', '.join(history.columns)} (val/loss needs val_data)")
    value = history.last(es.monitor)
    if value < best["value"] - es.min_delta:
        best.update(value=value, params=params, step=int(history.steps[-1]), bad=0)
        return False
    best["bad"] += 1
    return best["bad"] >= es.patience


def _progress(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, file=sys.stderr, dynamic_ncols=True, leave=False,
                disable=not sys.stderr.isatty())
