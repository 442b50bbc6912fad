"""Collocation: the fixed-size point sets a PINN trains on, and how they are refreshed.

- :class:`Collocation` builds the batch ``{"pde": {"x"}, <condition>: {...}}`` with FIXED sizes (Sobol
  by default), so the jitted step compiles once.
- :func:`make_refresh` redraws it every ``resample_every`` steps and applies RAR / RAD
  (:mod:`pinngen.pinn.sampling`) through ``fit(refresh=...)``.
- :func:`first_order_steps` says which steps may change the objective: by default resampling, adaptivity and
  weight updates run only in first-order phases, because a quasi-Newton phase's curvature memory assumes a
  fixed objective. ``redraw_in_quasi_newton: true`` also redraws the collocation set (resampling, RAR, RAD)
  in quasi-Newton phases, as Urbán, Stefanou & Pons (2025) do with RAD every few hundred BFGS iterations: the
  curvature memory (L-BFGS pairs, dense inverse Hessian) is carried across the redraw, the line search's
  stored value and gradient are recomputed on the new set (``new_objective`` of the updater), and a dense
  inverse Hessian that loses positive definiteness is reset (:mod:`pinngen.core.quasi_newton`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pinngen.core.optim import is_quasi_newton
from pinngen.pinn import sampling
from pinngen.pinn.loss import residual_norm
from pinngen.pinn.problem import Problem

# ---- specs (serialisable; the experiment config embeds them) -------------------------------------------


class Adaptive(BaseModel):
    """Residual-based adaptive collocation. rar: every ``every`` steps the ``n_points`` candidates with the
    largest |residual| replace the oldest of ``capacity`` reserved slots of the domain set (DeepXDE's RAR
    with a fixed-size set; plain resampling rounds keep those slots). rad: the whole domain set is redrawn
    with p ~ |r|^k / mean|r|^k + c every ``every`` steps and at every resampling round."""

    model_config = ConfigDict(extra="forbid")
    method: Literal["rar", "rad"] = "rad"
    every: int = Field(1000, ge=1, description="steps between adaptive rounds (chunks end on its multiples)")
    n_candidates: int = Field(20000, ge=1)
    n_points: int = Field(100, ge=1, description="rar: points added per round")
    capacity: int = Field(1000, ge=1, description="rar: slots of the domain set reserved for added points")
    k: float = Field(1.0, ge=0.0)
    c: float = Field(1.0, ge=0.0)
    final_k: float | None = Field(
        None, ge=0.0, description="rad: when redraws stop at collocation.redraw_until, draw the set the last "
        "iterations converge on once more with this k (default: keep the last set); when "
        "redraw_until_fraction stops them first, the current set is kept (a fresh, larger set pays off only "
        "over thousands of iterations)")
    final_c: float | None = Field(None, ge=0.0, description="rad: the c of that final draw (default: c)")
    final_n: int | None = Field(None, ge=1, description="rad: points in that final set (default: "
                                "collocation.n_domain); more points there narrow the gap between the residual at "
                                "the training points and between them, at a cost per iteration")


class CollocationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_domain: int = Field(2000, ge=1, description="residual points in the domain")
    n_boundary: int = Field(200, ge=1, description="points per boundary condition")
    n_initial: int = Field(200, ge=1, description="points per initial condition")
    method: Literal["uniform", "sobol", "lhs", "grid"] = "sobol"
    resample_every: int = Field(0, ge=0, description="steps between fresh sets (0: fixed set)")
    adaptive: Adaptive | None = None
    redraw_in_quasi_newton: bool = Field(
        False, description="also resample / adapt the domain set during quasi-Newton phases (their curvature "
        "memory is carried across each redraw); default: the set stays fixed there")
    redraw_until: int | None = Field(
        None, ge=1, description="no resampling or adaptive round from this step on, so the last iterations "
        "converge on one fixed set (default: redraw to the end)")
    redraw_until_fraction: float | None = Field(
        None, gt=0.0, le=1.0, description="no resampling or adaptive round once this share of "
        "train.max_train_seconds has been spent training (with redraw_until: whichever comes first), so that a "
        "slower or busier machine still leaves the last part of the budget to one fixed set; needs "
        "train.max_train_seconds")


# ---- collocation ---------------------------------------------------------------------------------------


class Collocation:
    """Host-side point sets of fixed size for the residual and each condition; ``batch(round)`` is a pure
    function of (seed, round). Observations stay fixed."""

    def __init__(self, problem: Problem, spec: CollocationSpec, *, seed: int = 0, dtype=np.float32):
        self.problem, self.spec, self.seed, self.dtype = problem, spec, int(seed), dtype
        self.sizes = {"pde": spec.n_domain}
        for c in problem.conditions:
            default = {"boundary": spec.n_boundary, "initial": spec.n_initial}.get(c.kind)
            self.sizes[c.name] = c.n if c.n is not None else default
        a = spec.adaptive
        if a is not None and a.method == "rar" and a.capacity >= spec.n_domain:
            raise ValueError(f"adaptive.capacity={a.capacity} must be below collocation.n_domain={spec.n_domain}")

    def _rng(self, which: int, rnd: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, which, rnd])

    def domain_points(self, rnd: int, n: int | None = None) -> np.ndarray:
        n = self.spec.n_domain if n is None else n
        return self.problem.geometry.sample_interior(n, method=self.spec.method, rng=self._rng(0, rnd))

    def batch(self, rnd: int = 0, domain: np.ndarray | None = None) -> dict:
        """{"pde": {"x": (n_domain, d)}, <condition>: {...}} as arrays of the configured dtype."""
        out = {"pde": {"x": self.domain_points(rnd) if domain is None else domain}}
        for i, c in enumerate(self.problem.conditions, start=1):
            x = c.sample(self.sizes[c.name], self.spec.method, self._rng(i, rnd))
            out[c.name] = c.data(x)
        return jax.tree_util.tree_map(lambda a: np.asarray(a, self.dtype), out)


# ---- phases: which steps may change the objective ------------------------------------------------------


def redraw_steps(phases: Sequence, spec: CollocationSpec) -> Callable[[int], bool]:
    """step -> True where the collocation set may be redrawn: first-order phases, and quasi-Newton ones too
    with ``spec.redraw_in_quasi_newton``."""
    return (lambda step: True) if spec.redraw_in_quasi_newton else first_order_steps(phases)


def first_order_steps(phases: Sequence) -> Callable[[int], bool]:
    """step -> True when the step belongs to a first-order (not quasi-Newton) phase."""
    bounds, start = [], 0
    for p in phases:
        bounds.append((start, start + p.steps, not is_quasi_newton(p.optimizer)))
        start += p.steps

    def active(step: int) -> bool:
        for a, b, ok in bounds:
            if a <= step < b:
                return ok
        return False

    return active


# ---- refresh: resampling and adaptive collocation ------------------------------------------------------


_residual_norm_jit = eqx.filter_jit(residual_norm)


def make_refresh(colloc: Collocation, *, active: Callable[[int], bool] = lambda s: True,
                 dtype=np.float32, time_limit: float | None = None) -> Callable | None:
    """``refresh(step, key, model, seconds=None) -> batch | None`` for fit: a fresh set every
    ``resample_every`` steps, RAR/RAD every ``adaptive.every`` steps; None (keep the batch) otherwise.
    ``seconds`` (training time so far; the loop passes it because ``refresh.takes_seconds``) and
    ``time_limit`` (train.max_train_seconds) drive ``redraw_until_fraction``. Returns None when neither
    resampling nor adaptivity is configured."""
    spec = colloc.spec
    a = spec.adaptive
    if not spec.resample_every and a is None:
        return None
    if spec.redraw_until_fraction is not None and time_limit is None:
        raise ValueError(f"collocation.redraw_until_fraction={spec.redraw_until_fraction} is a share of "
                         "train.max_train_seconds, which is not set: set train.max_train_seconds, or use "
                         "collocation.redraw_until (a step)")
    final = a is not None and any(v is not None for v in (a.final_k, a.final_c, a.final_n))
    if final and a.method != "rad":
        raise ValueError(f"adaptive.final_k / final_c / final_n redraw the last set by RAD, but adaptive.method is "
                         f"{a.method!r}: set adaptive.method: rad, or drop them")
    if final and spec.redraw_until is None:
        raise ValueError("adaptive.final_k / final_c / final_n shape the last set, drawn when redraws stop at "
                         "collocation.redraw_until, which is not set: set collocation.redraw_until (a step), or drop "
                         "them")
    if final and a.final_n is not None and a.final_n > a.n_candidates:
        raise ValueError(f"adaptive.final_n={a.final_n} exceeds adaptive.n_candidates={a.n_candidates}: RAD "
                         "draws without replacement; raise n_candidates")
    state = {"round": 0, "adapt": 0, "domain": None, "slot": 0, "last": None, "frozen": False, "final": False}

    def refresh(step: int, key, model, seconds: float | None = None):
        if (spec.redraw_until_fraction is not None and seconds is not None
                and seconds >= spec.redraw_until_fraction * time_limit):
            state["frozen"] = True  # for good: the time only grows, and a resumed run keeps the decision
        by_step = spec.redraw_until is not None and step >= spec.redraw_until
        stopped = state["frozen"] or by_step
        # one last RAD draw, with its own k, c and size, for the set the run converges on: only at redraw_until;
        # once the time share has frozen the set (a slower machine, a shorter budget) too little time is left
        # for a fresh, larger set to pay off (a 120 s Burgers run: 1.3e-5 with it, 5.4e-6 without)
        if by_step and not state["frozen"] and final and not state["final"] and active(step) and step > 0:
            state["final"] = True
            return _rad_draw(step, model, a.k if a.final_k is None else a.final_k,
                             a.c if a.final_c is None else a.final_c, n=a.final_n or spec.n_domain)
        if stopped or not active(step) or step == 0:
            return None
        rnd = step // spec.resample_every if spec.resample_every else 0
        adapt = step // a.every if a is not None else 0
        if rnd == state["round"] and adapt == state["adapt"]:
            return None
        new_round, new_adapt = rnd != state["round"], adapt != state["adapt"]
        state["round"], state["adapt"] = rnd, adapt
        if state["domain"] is None:
            state["domain"] = colloc.domain_points(rnd)
        elif new_round:
            fresh = colloc.domain_points(rnd)
            if a is not None and a.method == "rar":  # added points survive a resampling round
                fresh[spec.n_domain - a.capacity:] = state["domain"][spec.n_domain - a.capacity:]
            state["domain"] = fresh
        if a is not None and (new_adapt or (new_round and a.method == "rad")):  # RAD redraws the whole set
            cand = colloc.problem.geometry.sample_interior(a.n_candidates, method="uniform",
                                                           rng=colloc._rng(10_000, step))
            r = np.asarray(_residual_norm_jit(model, jnp.asarray(cand, dtype)))
            if a.method == "rad":
                return _rad_draw(step, model, a.k, a.c, cand=cand, r=r)
            else:
                add = sampling.rar(cand, r, min(a.n_points, a.capacity))
                dom = np.array(state["domain"])
                base = spec.n_domain - a.capacity  # slots [base, n_domain) hold added points, oldest replaced
                slots = base + (state["slot"] + np.arange(len(add))) % a.capacity
                dom[slots] = add
                state["slot"] = (state["slot"] + len(add)) % a.capacity
                state["domain"] = dom
        state["last"] = colloc.batch(rnd, domain=state["domain"])
        return state["last"]

    def _rad_draw(step: int, model, k: float, c: float, cand=None, r=None, n: int | None = None):
        if cand is None:
            cand = colloc.problem.geometry.sample_interior(a.n_candidates, method="uniform",
                                                           rng=colloc._rng(10_000, step))
            r = np.asarray(_residual_norm_jit(model, jnp.asarray(cand, dtype)))
        state["domain"] = sampling.rad(cand, r, n or spec.n_domain, k=k, c=c, rng=colloc._rng(20_000, step))
        state["last"] = colloc.batch(state["round"], domain=state["domain"])
        return state["last"]

    def state_dict() -> dict:
        return dict(state)

    def load_state_dict(saved: dict) -> None:
        for k in ("round", "adapt", "slot"):
            state[k] = int(saved[k])
        state["frozen"] = bool(saved.get("frozen", False))  # checkpoints written before the option: not frozen
        state["final"] = bool(saved.get("final", False))
        state["domain"] = None if saved.get("domain") is None else np.asarray(saved["domain"], dtype)
        last = saved.get("last")
        state["last"] = None if last is None else jax.tree_util.tree_map(lambda a: np.asarray(a, dtype), last)

    def reset() -> None:  # a new fit on the same setup starts from round 0 again (the loop calls it)
        state.update(round=0, adapt=0, domain=None, slot=0, last=None, frozen=False, final=False)

    refresh.state, refresh.reset = state, reset
    refresh.takes_seconds = spec.redraw_until_fraction is not None
    # a chunk boundary falls on every multiple, so rounds happen at exact steps whatever the chunk size
    refresh.every = math.gcd(spec.resample_every, a.every if a is not None else 0) or None
    refresh.state_dict, refresh.load_state_dict = state_dict, load_state_dict
    return refresh
