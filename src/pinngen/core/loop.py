"""The host side of one training run: position, hooks, evaluation, checkpoints, and the phase loop.

:class:`Loop` is what :func:`pinngen.core.train.fit` drives; see that module for the whole picture.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pinngen.core import checkpoint as ckpt
from pinngen.core.batching import make_sampler, should_stream
from pinngen.core.chunk import EMAPlan, make_chunks
from pinngen.core.history import History
from pinngen.core.nn import trainable_filter
from pinngen.core.optim import Phase, is_quasi_newton
from pinngen.core.placement import Placement
from pinngen.core.record import record_chunk
from pinngen.core.resume import check_fingerprint, fingerprint, hook_state, set_hook_state
from pinngen.core.updaters import STOP_REASONS, make_updater
from pinngen.core.weights import schedule_fns

log = logging.getLogger(__name__)


@dataclass
class TrainState:
    """What a callback sees after each chunk. Setting ``stop = True`` ends training (resumable)."""

    model: eqx.Module
    step: int
    phase: int
    history: History
    ema_model: eqx.Module | None = None
    stop: bool = False
    extra: dict = field(default_factory=dict)


def _next_multiple(x: int, every: int | None) -> int:
    return math.inf if not every else (x // every + 1) * every


class Loop:
    """The host side of one ``fit`` call: position, hooks, evaluation, checkpoints."""

    def __init__(self, model, data, cfg, *, loss_terms, key, seed, weights, weight_schedules,
                 val_data, metrics_fn, trace_fn, refresh, weight_update, callbacks, context, checkpoint_dir):
        self.cfg, self.seed, self.key = cfg, seed, key
        self.place = Placement(cfg.devices)
        self.params, self.static = eqx.partition(model, trainable_filter(model))
        self.params = self.place.replicate(self.params)
        self.loss_terms, self.refresh, self.weight_update = loss_terms, refresh, weight_update
        for hook in (refresh, weight_update):  # host hooks keep state between fits on one setup: start afresh
            if hasattr(hook, "reset"):  # (a resumed fit then loads the checkpoint's state over it)
                hook.reset()
        self.metrics_fn, self.callbacks, self.checkpoint_dir = metrics_fn, callbacks, checkpoint_dir
        self.stream = data is not None and should_stream(cfg.batching, data)
        self.data_host = data
        self.data = None if self.stream else self.place.data(data)
        self.val_data = self.place.data(val_data)
        probe = eqx.filter_eval_shape(loss_terms, model, self._example_batch(), key)
        self.names = tuple(sorted(probe))
        self.dtype = jax.tree_util.tree_leaves(probe)[0].dtype if probe else jnp.float32
        unknown = set(weights or {}) - set(self.names)
        if unknown:
            raise ValueError(f"weights name unknown loss terms {sorted(unknown)}; the terms are {list(self.names)}")
        self.w = {n: jnp.asarray((weights or {}).get(n, 1.0), self.dtype) for n in self.names}
        self.schedules = schedule_fns({**cfg.weight_schedules, **(weight_schedules or {})}, self.names)
        self.record_weights = self.names if weight_update is not None else tuple(sorted(self.schedules))
        self.traced = (lambda p: trace_fn(eqx.combine(p, self.static))) if trace_fn else None
        self.ema = jax.tree_util.tree_map(jnp.copy, self.params) if cfg.ema else None
        self.ema_plan = EMAPlan(cfg.ema.decay, cfg.ema.start_step) if cfg.ema else None
        self.history = History()
        ctx = context.to_dict() if hasattr(context, "to_dict") else dict(context or {})
        self.history.meta.update(context=ctx, phases=[], term_names=list(self.names))
        self.best = {"value": math.inf, "params": None, "step": None, "bad": 0}
        self.phase, self.s, self.g, self.ustate, self.finished = 0, 0, 0, None, False
        self.stop_requested = False  # a callback's stop on the chunk that ended a phase
        self.lr_scale: dict[int, float] = {}  # phase -> learning-rate multiplier from divergence retries
        self.last_good = ((self.params, None, self.ema), 0)
        self.fingerprint = fingerprint(cfg, self.names, self.params, key, self.data_host, self.w)
        self._evaluate = eqx.filter_jit(lambda p, b, w: self._total_fn(p, b, None, w))

    # -- set-up ----------------------------------------------------------------------------------------------
    def _example_batch(self):
        """A batch as the first phase's steps see it (for shapes): the data, or one sampler draw."""
        first = self.cfg.phases[0] if self.cfg.phases else None
        if self.data_host is None or first is None or not first.batch_size or is_quasi_newton(first.optimizer):
            return self.data if self.data is not None else self.data_host
        sampler = make_sampler(self.cfg.batching, batch_size=first.batch_size)
        n = sampler.check(self.data_host)
        return sampler.host_gather(self.data_host, sampler.host_inputs(n, self.seed, 0, 0, 1)[0])

    def _total_fn(self, params, batch, key, weights):
        terms = self.loss_terms(eqx.combine(params, self.static), batch, key)
        return sum(weights[n] * terms[n] for n in self.names), terms

    def phase_spec(self, pi: int):
        """Phase ``pi`` as configured, its learning rates scaled by any divergence retries."""
        phase, scale = self.cfg.phases[pi], self.lr_scale.get(pi, 1.0)
        if scale == 1.0:
            return phase
        groups = ({n: g.model_copy(update={"lr": g.lr * scale}) for n, g in phase.groups.items()}
                  if phase.groups else phase.groups)
        return phase.model_copy(update={"lr": phase.lr * scale, "groups": groups})

    def retry_after_divergence(self, pi: int) -> bool:
        """After phase ``pi`` stopped on a non-finite step: scale its learning rate down and go on from the last
        good state with a fresh optimizer state, if the guard allows another retry (else False)."""
        guard = self.cfg.divergence
        phase = self.cfg.phases[pi]
        if guard is None or is_quasi_newton(phase.optimizer) or self.s >= phase.steps:
            return False
        events = self.history.meta.setdefault("divergence_retries", [])
        if sum(e["phase"] == pi for e in events) >= guard.retries:
            return False
        before = self.phase_spec(pi)
        self.lr_scale[pi] = self.lr_scale.get(pi, 1.0) * guard.lr_factor
        after = self.phase_spec(pi)
        # back to the state at the start of the chunk that failed: the state right before the non-finite step is
        # finite but usually already blown up (the loss grows for a few steps before it overflows)
        (params, _, ema), good_step = self.last_good
        self.params, self.ema, self.ustate = params, ema, None
        events.append(dict(phase=pi, step=int(self.g), restored_step=int(good_step),
                           retry=sum(e["phase"] == pi for e in events) + 1, of=guard.retries, label=phase.label,
                           lr_before=before.lr, lr_after=after.lr))
        log.warning("phase %d (%s): non-finite step at %d; retrying with the parameters of step %d and lr %.3g",
                    pi, phase.label, self.g, good_step, after.lr)
        return True

    def updater(self, pi: int):
        return make_updater(self.phase_spec(pi), loss_terms=self.loss_terms, static=self.static, names=self.names,
                            params=self.params, dtype=self.dtype)

    def model(self, params=None):
        return eqx.combine(self.params if params is None else params, self.static)

    # -- checkpoints -----------------------------------------------------------------------------------------
    def save(self) -> None:
        trees = {"params": self.params}
        for name, tree in (("ustate", self.ustate), ("ema", self.ema), ("best", self.best["params"])):
            if tree is not None:
                trees[name] = tree
        if self.refresh is not None:
            trees["data"] = self.data if not self.stream else self.data_host
        arrays = {f"weight/{n}": np.asarray(v) for n, v in self.w.items()}
        hooks = {}
        for name, hook in (("refresh", self.refresh), ("weight_update", self.weight_update)):
            plain, arr = hook_state(name, hook)
            hooks[name] = plain
            arrays.update(arr)
        info = dict(phase=self.phase, step_in_phase=self.s, global_step=self.g, finished=self.finished,
                    fingerprint=self.fingerprint, hooks=hooks, trees=sorted(trees),
                    lr_scale={str(k): v for k, v in self.lr_scale.items()},
                    best={k: v for k, v in self.best.items() if k != "params"})
        ckpt.save_training(self.checkpoint_dir, self.g, trees, arrays, info, self.history)

    def restore(self) -> None:
        def templates(info):
            check_fingerprint(info.get("fingerprint", {}), self.fingerprint, self.checkpoint_dir)
            out = {"params": self.params}
            if "ustate" in info["trees"]:
                out["ustate"] = self.updater(info["phase"]).init(self.params)
            if "ema" in info["trees"]:
                out["ema"] = self.params
            if "best" in info["trees"]:
                out["best"] = self.params
            if "data" in info["trees"]:
                out["data"] = self.data if not self.stream else self.data_host
            return out

        # the training set may have been redrawn with another size (collocation.adaptive.final_n)
        trees, arrays, info, self.history = ckpt.load_training(self.checkpoint_dir, templates, any_shape=("data",))
        trees = {k: v if k == "data" and self.stream else self.place.data(v) if k == "data"
                 else self.place.replicate(v) for k, v in trees.items()}
        self.params = trees["params"]
        self.ustate, self.ema = trees.get("ustate"), trees.get("ema", self.ema)
        if "data" in trees:
            self.data = trees["data"] if not self.stream else None
            self.data_host = trees["data"] if self.stream else self.data_host
        self.best = {**info["best"], "params": trees.get("best")}
        self.best["value"] = float(self.best["value"])
        self.w = {n: jnp.asarray(arrays[f"weight/{n}"], self.dtype) for n in self.names}
        for name, hook in (("refresh", self.refresh), ("weight_update", self.weight_update)):
            set_hook_state(name, hook, info["hooks"].get(name, {}), {k: v for k, v in arrays.items()
                                                                      if k.startswith(f"{name}/")})
        self.phase, self.s, self.g, self.finished = (info["phase"], info["step_in_phase"], info["global_step"],
                                                     info["finished"])
        self.lr_scale = {int(k): float(v) for k, v in info.get("lr_scale", {}).items()}
        log.info("resumed from %s at step %d (phase %d)", self.checkpoint_dir, self.g, self.phase)

    # -- between chunks --------------------------------------------------------------------------------------
    def hooks(self, phase_key, updater=None) -> None:
        model_now = self.model()
        if self.refresh is not None:
            # a hook that asks for it gets the training time so far (the clock of max_train_seconds)
            kw = ({"seconds": float(self.history.last("time")) if len(self.history) else 0.0}
                  if getattr(self.refresh, "takes_seconds", False) else {})
            new = self.refresh(self.g, jax.random.fold_in(phase_key, 10_000_000 + self.s), model_now, **kw)
            if new is not None:
                if self.stream:
                    self.data_host = new
                else:
                    self.data = self.place.data(new)
                if self.ustate is not None and hasattr(updater, "new_objective"):  # quasi-Newton: drop stale values
                    self.ustate = self.place.replicate(updater.new_objective(self.ustate))
        if self.weight_update is not None:
            batch = self.data if self.data is not None else self.data_host
            self.w = {n: jnp.asarray(v, self.dtype)
                      for n, v in self.weight_update(model_now, batch, self.w, self.g).items()}

    def chunk_length(self, phase: Phase, C: int) -> int:
        """Steps until the next event: chunk size, evaluation, checkpoint, hook cadence, phase end."""
        ends = [self.s + C, _next_multiple(self.s, self.cfg.eval_every), phase.steps]
        for every in (self.cfg.checkpoint_every if self.checkpoint_dir is not None else None,
                      getattr(self.refresh, "every", None), getattr(self.weight_update, "every", None)):
            ends.append(self.s + _next_multiple(self.g, every) - self.g)
        return int(min(ends) - self.s)

    def evaluate(self, state: TrainState) -> None:
        values = {}
        if self.val_data is not None:
            total, terms = jax.device_get(self._evaluate(self.params, self.val_data, self.w))
            values["val/loss"] = float(total) if np.isfinite(total) else math.inf
            for name, v in terms.items():
                values[f"val/loss/{name}"] = float(v) if np.isfinite(v) else math.inf
        if self.metrics_fn is not None:
            for name, v in self.metrics_fn(state.model).items():
                values[f"metric/{name}"] = float(v)
        if values and len(self.history):
            self.history.record(int(self.history.steps[-1]), values)

    def early_stop(self) -> bool:
        es = self.cfg.early_stopping
        if es.monitor not in self.history:
            raise ValueError(f"early_stopping.monitor={es.monitor!r} is not recorded; "
                             f"recorded: {', '.join(self.history.columns)} (val/loss needs val_data)")
        value = self.history.last(es.monitor)
        if value < self.best["value"] - es.min_delta:
            self.best.update(value=value, params=self.params, step=int(self.history.steps[-1]), bad=0)
            return False
        self.best["bad"] += 1
        return self.best["bad"] >= es.patience

    # -- one phase -------------------------------------------------------------------------------------------
    def run_phase(self, pi: int, bar) -> str:
        """Train phase ``pi`` from the current position; returns why it ended."""
        phase = self.cfg.phases[pi]
        updater = self.updater(pi)
        if updater.objectives:
            self.history.meta.setdefault("objectives", {}).update({k: list(v) for k, v in updater.objectives.items()})
            # each player's optimizer and learning rate, for the per-objective diagnosis's wording
            per = self.history.meta["context"].setdefault("per_objective", {})
            for name, g in phase.groups.items():
                per[name] = {"optimizer": g.optimizer, "lr": g.lr, "adversarial": g.adversarial}
        sampler = None
        if phase.batch_size and not updater.full_batch:
            sampler = make_sampler(self.cfg.batching, batch_size=phase.batch_size, batches=updater.batches_per_step)
        n_data = sampler.check(self.data_host) if sampler is not None else 0
        fast, guarded = make_chunks(updater, sampler=sampler, stream=self.stream and sampler is not None,
                                    schedules=self.schedules, trace_fn=self.traced, ema=self.ema_plan,
                                    record_weights=self.record_weights,
                                    constrain=self.place.constrain if self.place.sharded else None)
        if self.ustate is None:
            self.ustate = self.place.replicate(updater.init(self.params))
        data = self.data if not (self.stream and sampler is not None) else None
        phase_key = jax.random.fold_in(self.key, pi)
        # the compiled length: no longer than any cadence, so regular events end full (fast) chunks
        cadences = (self.cfg.eval_every, self.cfg.checkpoint_every if self.checkpoint_dir is not None else None,
                    getattr(self.refresh, "every", None), getattr(self.weight_update, "every", None))
        C = max(1, min([self.cfg.chunk, phase.steps, *(c for c in cadences if c)]))
        reason = "max_steps"
        while self.s < phase.steps:
            self.hooks(phase_key, updater)
            data = self.data if not (self.stream and sampler is not None) else None
            n = self.chunk_length(phase, C)
            ii = jnp.arange(self.s, self.s + C, dtype=jnp.int32)
            gg = jnp.arange(self.g, self.g + C, dtype=jnp.int32)
            sx = None
            if sampler is not None:
                sx = sampler.host_inputs(n_data, self.seed, pi, self.s, C)
                sx = jax.device_put(sampler.host_gather(self.data_host, sx) if self.stream else sx)
            if sampler is None and self.stream:
                data = self.place.data(self.data_host)
            keys = jax.vmap(jax.random.fold_in, in_axes=(None, 0))(phase_key, ii)
            xs = (ii, gg, sx, keys)
            t0 = time.perf_counter()
            start = (self.params, self.ustate, self.ema)
            self.last_good = (start, self.g)  # the chunk starts from a state whose losses were all finite
            if n == C and not updater.stops_early:
                out = fast(*start, data, self.w, xs)
                if int(out[3]):  # a non-finite step: replay the chunk, stopping before the bad update
                    out = guarded(*start, data, self.w, xs, jnp.int32(self.s + n))
            else:
                out = guarded(*start, data, self.w, xs, jnp.int32(self.s + n))
            self.params, self.ustate, self.ema, code, outs = out
            outs = jax.device_get(outs)
            n_run = int(np.sum(outs["executed"]))
            record_chunk(self.history, outs, n_run, self.g, phase.label, time.perf_counter() - t0)
            self.s += n_run
            self.g += n_run
            code = int(code)
            reason = STOP_REASONS[code] if code else reason
            state = TrainState(self.model(), self.g, pi, self.history,
                               ema_model=self.model(self.ema) if self.ema is not None else None)
            stopped_early = False
            if self.s % self.cfg.eval_every == 0 or self.s >= phase.steps or code:
                self.evaluate(state)
                if self.cfg.early_stopping is not None and self.early_stop():
                    reason, stopped_early = "early_stopping", True
            for cb in self.callbacks:
                cb(state)
            if bar is not None:
                bar.update(n_run)
                bar.set_postfix(loss=f"{self.history.last('loss'):.3e}", phase=phase.label)
            limit = self.cfg.max_train_seconds
            if limit is not None and not code and not stopped_early and self.history.last("time") >= limit:
                reason, stopped_early = "time_limit", True
                if self.s % self.cfg.eval_every != 0 and self.s < phase.steps:
                    self.evaluate(state)
            ends = code or stopped_early or self.s >= phase.steps
            if state.stop and not ends:
                reason = "callback"
            if self.checkpoint_dir is not None and not ends and (
                    state.stop or (self.cfg.checkpoint_every and self.g % self.cfg.checkpoint_every == 0)):
                self.save()
            if ends or state.stop:
                self.stop_requested = bool(state.stop)  # also on a phase's last chunk: fit stops after it
                break
        return reason
