"""How a PINN is trained: collocation sets, loss terms, loss weighting, resampling and adaptivity.

Everything plugs into the one training loop :func:`pinngen.core.train.fit`:

- :class:`Collocation` builds the batch ``{"pde": {"x"}, <condition>: {...}}`` with FIXED sizes (Sobol
  by default), so the jitted step compiles once; ``make_refresh`` redraws it every ``resample_every``
  steps and applies RAR / RAD (``pinn.sampling``) through ``fit(refresh=...)``.
- :func:`make_loss_terms` gives ``{"pde": mean r^2, <condition>: ...}``, optionally with causal
  weighting of the residual over time slices (Wang, Sankaran & Perdikaris 2022, "Respecting causality
  is all you need for training physics-informed neural networks", arXiv:2203.07404, eq. 2.9-2.10):
  ``L_r = (1/M) sum_i w_i L_i``, ``w_i = exp(-eps sum_{k<i} L_k)``, the weights not differentiated.
- :func:`make_weight_update` is gradient-norm balancing for ``fit(weight_update=...)``: "lr_annealing"
  (Wang, Teng & Perdikaris 2021, "Understanding and mitigating gradient flow pathologies in
  physics-informed neural networks", SIAM J. Sci. Comput. 43(5), Algorithm 1, eq. 40-41):
  ``lambda_hat_i = max|grad L_r| / mean|grad L_i|``, ``lambda_i <- (1 - alpha) lambda_i + alpha lambda_hat_i``;
  and "grad_norm" (Wang et al. 2023, "An expert's guide to training PINNs", arXiv:2308.08468, eq. 5.1):
  ``lambda_hat_i = sum_j ||grad L_j|| / ||grad L_i||``, same moving average.
Resampling, adaptivity and weight updates run only in first-order phases: an L-BFGS phase keeps its
objective fixed (its curvature memory assumes it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pinngen.core.nn import trainable_filter
from pinngen.pinn import sampling
from pinngen.pinn.problem import Problem

# ---- specs (serialisable; the experiment config embeds them) -------------------------------------------


class Adaptive(BaseModel):
    """Residual-based adaptive collocation. rar: every ``every`` steps the ``n_points`` candidates with the
    largest |residual| replace the oldest of ``capacity`` reserved slots of the domain set (DeepXDE's RAR
    with a fixed-size set; plain resampling rounds keep those slots). rad: the whole domain set is redrawn
    with p ~ |r|^k / mean|r|^k + c every ``every`` steps and at every resampling round."""

    model_config = ConfigDict(extra="forbid")
    method: Literal["rar", "rad"] = "rad"
    every: int = Field(1000, ge=1, description="steps between adaptive rounds (rounded to eval_every chunks)")
    n_candidates: int = Field(20000, ge=1)
    n_points: int = Field(100, ge=1, description="rar: points added per round")
    capacity: int = Field(1000, ge=1, description="rar: slots of the domain set reserved for added points")
    k: float = Field(1.0, ge=0.0)
    c: float = Field(1.0, ge=0.0)


class CollocationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_domain: int = Field(2000, ge=1, description="residual points in the domain")
    n_boundary: int = Field(200, ge=1, description="points per boundary condition")
    n_initial: int = Field(200, ge=1, description="points per initial condition")
    method: Literal["uniform", "sobol", "lhs", "grid"] = "sobol"
    resample_every: int = Field(0, ge=0, description="steps between fresh sets (0: fixed set)")
    adaptive: Adaptive | None = None


class Causal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    eps: float = Field(1.0, gt=0.0, description="causality parameter epsilon")
    n_slices: int = Field(32, ge=1, description="time slices M")


class WeightingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weights: dict[str, float] = Field(default_factory=dict, description="fixed (initial) weight per term")
    scheme: Literal["fixed", "lr_annealing", "grad_norm"] = "fixed"
    alpha: float = Field(0.9, gt=0.0, le=1.0, description="moving-average factor of the adaptive weights")
    causal: Causal | None = None


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


# ---- loss ----------------------------------------------------------------------------------------------


def causal_weights(slice_losses: jax.Array, eps: float) -> jax.Array:
    """w_i = exp(-eps * sum_{k<i} L_k) (w_0 = 1), not differentiated: (M,) -> (M,)."""
    before = jnp.cumsum(slice_losses) - slice_losses  # exclusive cumulative sum
    return jax.lax.stop_gradient(jnp.exp(-eps * before))


def slice_losses(r2: jax.Array, t: jax.Array, t0: float, t1: float, n_slices: int) -> jax.Array:
    """Mean of r2 (n,) over points in each of n_slices equal time slices of [t0, t1]: (M,)."""
    s = jnp.clip(jnp.floor((t - t0) / (t1 - t0) * n_slices), 0, n_slices - 1).astype(jnp.int32)
    total = jax.ops.segment_sum(r2, s, num_segments=n_slices)
    count = jax.ops.segment_sum(jnp.ones_like(r2), s, num_segments=n_slices)
    return total / jnp.maximum(count, 1.0)


def causal_loss(r2: jax.Array, t: jax.Array, t0: float, t1: float, causal: Causal) -> tuple[jax.Array, jax.Array]:
    """(1/M) sum_i w_i L_i and the weights w (M,)."""
    L = slice_losses(r2, t, t0, t1, causal.n_slices)
    w = causal_weights(L, causal.eps)
    return jnp.mean(w * L), w


def _r2(r: jax.Array) -> jax.Array:
    """Squared residual per point: (n,) or (n, n_eq) -> (n,) (mean over equations)."""
    return jnp.square(r) if r.ndim == 1 else jnp.mean(jnp.square(r), axis=1)


def make_loss_terms(problem: Problem, causal: Causal | None = None) -> Callable:
    """``(model, batch, key) -> {"pde" (or "pde_<eq>"): ..., <condition>: ...}``."""
    if causal is not None and problem.time is None:
        raise ValueError(f"causal weighting needs a time input; problem {problem.name!r} has inputs {problem.inputs}")
    if causal is not None:
        t_axis = problem.inputs.index(problem.time)
        t0, t1 = (float(b[t_axis]) for b in problem.geometry.bbox)

    def loss_terms(model, batch, key=None):
        params = model.parameter_values()
        x = batch["pde"]["x"]
        terms = {}
        w = None
        if problem.residual_weight is not None:
            w = problem.residual_weight({n: x[:, i] for i, n in enumerate(problem.inputs)})
        for name, r in problem.residuals(model, x, params).items():
            r2 = _r2(r) if w is None else _r2(r) * w
            terms[name] = causal_loss(r2, x[:, t_axis], t0, t1, causal)[0] if causal else jnp.mean(r2)
        for c in problem.conditions:
            terms[c.name] = c.loss(model, batch[c.name], params)
        return terms

    return loss_terms


def residual_norm(model, x: jax.Array) -> jax.Array:
    """|residual| per point (n,) (Euclidean norm over equations)."""
    res = model.problem.residuals(model, x, model.parameter_values())
    return jnp.sqrt(sum(_r2(r) * (1 if r.ndim == 1 else r.shape[1]) for r in res.values()))


_residual_norm_jit = eqx.filter_jit(residual_norm)


# ---- phases: which steps may change the objective ------------------------------------------------------


def first_order_steps(phases: Sequence) -> Callable[[int], bool]:
    """step -> True when the step belongs to a first-order (non-L-BFGS) phase."""
    bounds, start = [], 0
    for p in phases:
        bounds.append((start, start + p.steps, p.optimizer != "lbfgs"))
        start += p.steps

    def active(step: int) -> bool:
        for a, b, ok in bounds:
            if a <= step < b:
                return ok
        return False

    return active


# ---- refresh: resampling and adaptive collocation ------------------------------------------------------


def make_refresh(colloc: Collocation, *, active: Callable[[int], bool] = lambda s: True,
                 dtype=np.float32) -> Callable | None:
    """``refresh(step, key, model) -> batch | None`` for fit: a fresh set every ``resample_every`` steps,
    RAR/RAD every ``adaptive.every`` steps; None (keep the batch) otherwise. Returns None when neither
    is configured."""
    spec = colloc.spec
    a = spec.adaptive
    if not spec.resample_every and a is None:
        return None
    state = {"round": 0, "adapt": 0, "domain": None, "slot": 0, "last": None}

    def refresh(step: int, key, model):
        if not active(step) or step == 0:
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
                state["domain"] = sampling.rad(cand, r, spec.n_domain, k=a.k, c=a.c,
                                               rng=colloc._rng(20_000, step))
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

    refresh.state = state
    return refresh


# ---- adaptive weights ----------------------------------------------------------------------------------


RESIDUAL = "__residual__"


def _grad_stats(loss_terms: Callable, anchor: Sequence[str]):
    """Jitted (model, batch) -> {term: (max|g|, mean|g|, ||g||)} over the trainable parameters, plus
    RESIDUAL for the sum of the anchor (residual) terms."""

    def terms(p, static, batch):
        t = loss_terms(eqx.combine(p, static), batch, None)
        return {**t, RESIDUAL: sum(t[a] for a in anchor)}

    @eqx.filter_jit
    def stats(model, batch):
        params, static = eqx.partition(model, trainable_filter(model))
        jac = jax.jacrev(terms)(params, static, batch)
        out = {}
        for name, g in jac.items():
            leaves = [jnp.ravel(v) for v in jax.tree_util.tree_leaves(g)]
            flat = jnp.abs(jnp.concatenate(leaves))
            out[name] = (jnp.max(flat), jnp.mean(flat), jnp.sqrt(jnp.sum(flat**2)))
        return out

    return stats


def balanced_weights(stats: dict, weights: dict, *, scheme: str, alpha: float, anchor: Sequence[str]) -> dict:
    """One update of the adaptive weights from gradient statistics (pure; see the module docstring).

    stats: {term: (max|g|, mean|g|, ||g||)}, with stats[RESIDUAL] for the summed residual terms (else the
    largest anchor max is used); anchor: the residual terms, whose weights stay fixed in "lr_annealing"."""
    new = dict(weights)
    stats = dict(stats)
    res = stats.pop(RESIDUAL, None)
    if scheme == "lr_annealing":
        ref = float(res[0]) if res is not None else max(float(stats[a][0]) for a in anchor)
        for name, (_, mean, _) in stats.items():
            if name in anchor:
                continue
            hat = ref / max(float(mean), 1e-30)
            new[name] = (1.0 - alpha) * float(weights[name]) + alpha * hat
    elif scheme == "grad_norm":
        total = sum(float(s[2]) for s in stats.values())
        for name, (_, _, norm) in stats.items():
            hat = total / max(float(norm), 1e-30)
            new[name] = (1.0 - alpha) * float(weights[name]) + alpha * hat
    else:
        raise ValueError(f"scheme={scheme!r}; choose one of ('lr_annealing', 'grad_norm')")
    return new


def make_weight_update(loss_terms: Callable, spec: WeightingSpec, *, anchor: Sequence[str],
                       active: Callable[[int], bool] = lambda s: True, every: int = 1) -> Callable | None:
    """``weight_update(model, batch, weights, step) -> weights`` for fit, or None for fixed weights.
    Updates at most once per ``every`` steps, and only in first-order phases."""
    if spec.scheme == "fixed":
        return None
    stats_fn = _grad_stats(loss_terms, tuple(anchor))
    last = {"step": None}

    def update(model, batch, weights, step):
        if not active(step) or (last["step"] is not None and step - last["step"] < every):
            return weights
        last["step"] = step
        stats = jax.device_get(stats_fn(model, batch))
        return balanced_weights(stats, weights, scheme=spec.scheme, alpha=spec.alpha, anchor=anchor)

    return update
