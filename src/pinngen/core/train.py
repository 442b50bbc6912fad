"""The one training loop for every model family.

``fit(model, data, config, loss_terms=...) -> (model, History)``. ``loss_terms(model, batch, key)`` returns
a dict of named scalar terms; an *updater* (:mod:`pinngen.core.updaters`: any Optax transform, L-BFGS, or
named parameter groups for two-player training) turns them into parameter updates. Steps run in jitted
chunks of up to ``chunk`` steps (:mod:`pinngen.core.chunk`); between chunks the host does what runs on its
own cadence: validation and metrics (``eval_every``), checkpoints (``checkpoint_every``), collocation
refresh and adaptive weights (each hook's ``every``), callbacks and the progress bar. A chunk ends where the
next of these falls, so every cadence is exact and independent of the chunk size.

Everything a step depends on is a function of (seed, phase, step): keys, minibatches, scheduled weights.
Checkpoints hold the rest (parameters, optimizer state with L-BFGS memory and counters, EMA, hooks' state,
adaptive weights, early-stopping best, history), so ``resume=True`` continues exactly where an
uninterrupted run would be.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import equinox as eqx
import jax
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pinngen.core import checkpoint as ckpt
from pinngen.core.batching import BatchingSpec
from pinngen.core.history import History
from pinngen.core.loop import Loop, TrainState
from pinngen.core.optim import EarlyStopping, Phase
from pinngen.core.weights import WeightSchedule

log = logging.getLogger(__name__)


class DivergenceGuard(BaseModel):
    """What to do when a step's loss or gradient turns non-finite in a first-order phase: the loop already stops
    before that update (the state is the last good one); with a guard it then retries the phase from there with
    the learning rate multiplied by ``lr_factor``, a fresh optimizer state, at most ``retries`` times per phase.
    Each retry is recorded (``history.meta["divergence_retries"]``) and said in the report."""

    model_config = ConfigDict(extra="forbid")
    retries: int = Field(2, ge=1, description="retries per phase before the run ends as diverged")
    lr_factor: float = Field(0.3, gt=0.0, lt=1.0, description="learning-rate multiplier at each retry")


class EMASpec(BaseModel):
    """Exponential moving average of the parameters, kept beside them and saved with them."""

    model_config = ConfigDict(extra="forbid")
    decay: float = Field(0.999, gt=0.0, lt=1.0)
    start_step: int = Field(0, ge=0, description="global step from which the average starts")


class TrainConfig(BaseModel):
    """Hyperparameters of the loop itself (the phases carry the optimizer settings)."""

    model_config = ConfigDict(extra="forbid")
    phases: list[Phase] = Field(default_factory=lambda: [Phase()])
    chunk: int = Field(100, ge=1, description="steps per compiled chunk (the host syncs once per chunk)")
    eval_every: int = Field(100, ge=1, description="steps between validation/metric evaluations (per phase)")
    early_stopping: EarlyStopping | None = None
    checkpoint_every: int | None = Field(1000, ge=1, description="steps between resumable checkpoints "
                                         "(written when fit has a checkpoint_dir, as every `pinngen run` does)")
    weight_schedules: dict[str, WeightSchedule] = Field(
        default_factory=dict, description="loss term -> multiplier of its weight by step (warm-ups, annealing)")
    ema: EMASpec | None = None
    devices: int = Field(1, ge=1, description="data parallelism: split the data's sample axis over this many "
                         "devices (parameters replicated, gradients reduced by XLA); 1: one device")
    divergence: DivergenceGuard | None = Field(
        None, description="retry a phase whose loss turned non-finite with a smaller learning rate (off: the run "
        "ends there, as diverged)")
    max_train_seconds: float | None = Field(
        None, gt=0, description="end training once the loop's own clock (history `time`, compile included) "
        "passes this many seconds; checked after each chunk, so keep `chunk` small against it. A run stopped "
        "this way depends on the machine's speed: it is not reproducible step for step")
    batching: BatchingSpec = Field(default_factory=BatchingSpec)
    progress: bool = True


@dataclass
class FitResult:
    """``model, history = fit(...)`` unpacks the trained model and its History; ``ema_model`` holds the
    moving average of the weights when ``ema`` is configured (None otherwise)."""

    model: eqx.Module
    history: History
    ema_model: eqx.Module | None = None

    def __iter__(self):
        return iter((self.model, self.history))

    def __getitem__(self, i):
        return (self.model, self.history)[i]

    def __len__(self) -> int:
        return 2


def fit(
    model: eqx.Module,
    data=None,
    config: TrainConfig | Mapping | None = None,
    *,
    loss_terms: Callable | None = None,
    key: jax.Array | None = None,
    seed: int = 0,
    weights: Mapping[str, float] | None = None,
    weight_schedules: Mapping[str, Callable | WeightSchedule | dict] | None = None,
    val_data=None,
    metrics_fn: Callable[[eqx.Module], Mapping[str, float]] | None = None,
    trace_fn: Callable[[eqx.Module], Mapping[str, jax.Array]] | None = None,
    refresh: Callable | None = None,
    weight_update: Callable | None = None,
    callbacks: tuple[Callable[[TrainState], None], ...] = (),
    context=None,
    checkpoint_dir=None,
    resume: bool = False,
) -> FitResult:
    """Train ``model``; ``model, history = fit(...)`` (a :class:`FitResult`, also holding ``ema_model``).

    Args:
        data: a pytree of arrays (dict of ``(n, ...)`` arrays) or None. Phases with ``batch_size`` draw
            seeded minibatches with ``config.batching``'s sampler; otherwise the whole pytree is the batch.
        loss_terms: ``(model, batch, key) -> {name: scalar}``; defaults to ``model.loss_terms``.
        weights: base weight per term (default 1); ``weight_schedules`` (and ``config.weight_schedules``)
            multiply it by a traced function of the global step.
        val_data: evaluated with ``key=None`` every ``eval_every`` steps; recorded as ``val/loss`` and
            ``val/loss/<term>``.
        metrics_fn: ``model -> {name: float}`` every ``eval_every`` steps, recorded as ``metric/<name>``.
        trace_fn: ``model -> {name: scalar}`` traced inside every step (e.g. identified PDE parameters).
        refresh: ``(step, key, model) -> batch | None`` before each chunk (collocation resampling); the new
            batch keeps the shapes. Optional ``every`` (a chunk starts on each multiple) and
            ``state_dict``/``load_state_dict`` (exact resume), and ``reset()``, called as each fit starts, so
            that a second fit on the same setup repeats the first.
        weight_update: ``(model, batch, weights, step) -> weights`` before each chunk (adaptive weighting);
            optional ``every``, ``state_dict``/``load_state_dict`` and ``reset`` as for refresh.
        callbacks: called with a :class:`TrainState` after each chunk.
        context: what the diagnosis should know (a DiagnoseContext or a dict), stored in history.meta.
        checkpoint_dir / resume: resumable checkpoints (see :mod:`pinngen.core.checkpoint`).
    """
    loop = _make_loop(model, data, config, loss_terms=loss_terms, key=key, seed=seed, weights=weights,
                      weight_schedules=weight_schedules, val_data=val_data, metrics_fn=metrics_fn, trace_fn=trace_fn,
                      refresh=refresh, weight_update=weight_update, callbacks=callbacks, context=context,
                      checkpoint_dir=checkpoint_dir)
    cfg = loop.cfg
    if resume and checkpoint_dir is not None and ckpt.exists(checkpoint_dir):
        loop.restore()
    total_steps = sum(p.steps for p in cfg.phases)
    bar = _progress(cfg.progress and not loop.finished, total_steps, loop.g)
    while not loop.finished and loop.phase < len(cfg.phases):
        pi = loop.phase
        phase = cfg.phases[pi]
        reason = loop.run_phase(pi, bar)
        if reason == "callback":
            break
        if reason == "non_finite" and loop.retry_after_divergence(pi):
            continue
        loop.history.meta["phases"].append(dict(optimizer=phase.label, steps_run=loop.s, steps_max=phase.steps,
                                                stop_reason=reason, **_phase_meta(loop, pi)))
        log.info("phase %d (%s) ended after %d steps: %s", pi, phase.label, loop.s, reason)
        loop.finished = reason in ("non_finite", "early_stopping", "time_limit") or pi + 1 == len(cfg.phases)
        loop.history.meta["diverged"] = reason == "non_finite"
        if not loop.finished:
            loop.phase, loop.s, loop.ustate = pi + 1, 0, None
        if loop.checkpoint_dir is not None:
            loop.save()
        if loop.stop_requested:  # asked on the phase's last chunk: the next phase waits for a resume
            break
    if bar is not None:
        bar.close()
    history = loop.history
    history.meta.setdefault("diverged", False)
    params = loop.params
    stopped_early = any(p["stop_reason"] == "early_stopping" for p in history.meta["phases"])
    es = cfg.early_stopping
    if es is not None and es.restore_best and loop.best["params"] is not None and (
            stopped_early or (es.restore_at_end and not _best_is_last(history, es.monitor, loop.best["value"]))):
        params = loop.best["params"]
        history.meta["restored_best_step"] = loop.best["step"]
        history.meta["restored_best"] = dict(monitor=es.monitor, value=loop.best["value"],
                                             last_value=float(history.last(es.monitor)))
    ema_model = loop.model(loop.ema) if loop.ema is not None else None
    return FitResult(loop.model(params), history, ema_model)


def _best_is_last(history: History, monitor: str, best: float) -> bool:
    """Whether the last recorded ``monitor`` is the best one (then the final parameters are the best)."""
    return monitor in history and float(history.last(monitor)) <= best


def _phase_meta(loop: Loop, pi: int) -> dict:
    """What a quasi-Newton phase's record adds: its time per iteration (the median over its chunks after the
    first, which compiles; the first one's when there is no other) and, for a dense inverse Hessian, its size."""
    updater = loop.updater(pi)
    if not hasattr(updater, "phase_meta") or loop.ustate is None:
        return {}
    out = dict(updater.phase_meta(loop.ustate))
    if loop.s and "time" in loop.history:
        t = loop.history.column("time")
        t = t[-loop.s - 1:] if len(t) > loop.s else np.concatenate([[0.0], t])
        dt = np.diff(t[np.isfinite(t)])
        first = int(np.argmin(np.isclose(dt, dt[0], rtol=1e-6))) if len(dt) else 0  # steps of the first chunk
        dt = dt[first:] if first else dt
        if len(dt):
            out["ms_per_step"] = round(float(np.median(dt)) * 1e3, 3)
    return out


def _make_loop(model, data, config, *, loss_terms, key, seed, **kwargs) -> Loop:
    cfg = config if isinstance(config, TrainConfig) else TrainConfig.model_validate(config or {})
    if any(p.epochs for p in cfg.phases):
        from pinngen.core.batching import data_size

        cfg = cfg.model_copy(update={"phases": [p.resolved(data_size(data)) for p in cfg.phases]})
    loss_terms = loss_terms or type(model).loss_terms
    key = jax.random.PRNGKey(seed) if key is None else key
    loop = Loop(model, data, cfg, loss_terms=loss_terms, key=key, seed=seed, **kwargs)
    for p in range(len(cfg.phases)):  # bad groups, terms or transforms fail before any step runs
        loop.updater(p)
    return loop


def check_fit(model: eqx.Module, data=None, config: TrainConfig | Mapping | None = None, *,
              loss_terms: Callable | None = None, seed: int = 0, **kwargs) -> None:
    """Raise the one-line ValueError that :func:`fit` would raise for these arguments (unknown weights,
    schedules or group terms, groups matching no parameter, ...), without training or writing anything."""
    defaults = dict(key=None, weights=None, weight_schedules=None, val_data=None, metrics_fn=None, trace_fn=None,
                    refresh=None, weight_update=None, callbacks=(), context=None, checkpoint_dir=None)
    _make_loop(model, data, config, loss_terms=loss_terms, seed=seed, **{**defaults, **kwargs})


def _progress(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, file=sys.stderr, dynamic_ncols=True, leave=False,
                disable=not sys.stderr.isatty())
