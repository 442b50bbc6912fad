"""The ``pinn`` experiment kind: a library problem, a network, collocation, loss weighting and phases.

::

    kind: pinn
    problem: burgers            # a name from pinngen.pinn.problems
    options: {hard: false}      # the problem factory's keyword options
    network: {hidden: [20, 20, 20, 20, 20, 20, 20, 20], activation: tanh}
    collocation: {n_domain: 4000, n_boundary: 100, n_initial: 200, method: sobol, resample_every: 1000}
    weighting: {weights: {ic: 10}, scheme: fixed, causal: null}
    train: {phases: [{optimizer: adam, steps: 10000}, {optimizer: lbfgs, steps: 5000}]}

evaluate() writes the relative L2 and max error on the reference grid (``rel_l2``, ``max_abs_error``),
identified unknowns (``unknowns`` in metrics.json), and figures: prediction/reference/error maps, slices
at a few times, and the residual map.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pinngen.config import ActivationName, ConfigError, InitName, RunConfig
from pinngen.core.setup import Setup
from pinngen.pinn import problems as library
from pinngen.pinn.network import PINN
from pinngen.pinn.solver import (
    Collocation,
    CollocationSpec,
    WeightingSpec,
    causal_loss,
    first_order_steps,
    make_loss_terms,
    make_refresh,
    make_weight_update,
    residual_norm,
)

log = logging.getLogger(__name__)


class NetworkSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hidden: list[int] = Field(default_factory=lambda: [20, 20, 20, 20])
    activation: ActivationName = "tanh"
    init: InitName = "glorot_normal"
    fourier_features: int = Field(0, ge=0, description="random Fourier features (0: none)")
    fourier_sigma: float = Field(1.0, gt=0.0)
    periodic: bool = Field(False, description="embed the problem's periodic inputs as cos/sin (exact periodicity)")
    n_harmonics: int = Field(1, ge=1)




class EvaluationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metric_points: int = Field(4096, ge=0, description="reference points for metric/rel_l2 during training")
    n_slices: int = Field(4, ge=1, description="time slices in the slice figure")


class Config(RunConfig):
    kind: Literal["pinn"] = "pinn"
    problem: str = "burgers"
    options: dict[str, Any] = Field(default_factory=dict, description="keyword options of the problem factory")
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    collocation: CollocationSpec = Field(default_factory=CollocationSpec)
    weighting: WeightingSpec = Field(default_factory=WeightingSpec)
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)

    @field_validator("problem")
    @classmethod
    def _problem(cls, v):
        if v.replace("-", "_") not in library.PROBLEMS:
            raise ValueError(f"unknown problem {v!r}; choose one of {', '.join(sorted(library.PROBLEMS))}")
        return v


def _dtype(name: str):
    return jnp.float64 if name == "float64" else jnp.float32


def build_problem(name: str, options: dict):
    try:
        return library.get_problem(name, **options)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"config error: options: {err}") from None


def template(spec: dict, key=None) -> PINN:
    problem = build_problem(spec["problem"], spec.get("options", {}))
    net = dict(spec["network"])
    periodic = sorted(problem.periodic) if net.pop("periodic", False) else None
    return PINN(problem, periodic=periodic, key=key if key is not None else jax.random.PRNGKey(0),
                dtype=_dtype(spec.get("dtype", "float32")), **net)


def setup(cfg: Config) -> Setup:
    spec = dict(problem=cfg.problem, options=dict(cfg.options), network=cfg.network.model_dump(), dtype=cfg.dtype)
    model = template(spec, key=jax.random.PRNGKey(cfg.seed))
    problem = model.problem
    spec.update(inputs=list(problem.inputs), outputs=list(problem.outputs))
    np_dtype = np.float64 if cfg.dtype == "float64" else np.float32
    colloc = Collocation(problem, cfg.collocation, seed=cfg.seed, dtype=np_dtype)
    data = colloc.batch(0)
    causal = cfg.weighting.causal
    try:
        loss_terms = make_loss_terms(problem, causal)
    except ValueError as err:
        raise ConfigError(f"config error: weighting.causal: {err}") from None
    names = set(problem.residual_names) | {c.name for c in problem.conditions}
    bad = sorted(set(cfg.weighting.weights) - names)
    if bad:
        raise ConfigError(f"config error: weighting.weights: unknown term(s) {bad}; the loss terms are "
                          f"{sorted(names)}")
    active = first_order_steps(cfg.train.phases)
    refresh = make_refresh(colloc, active=active, dtype=np_dtype)
    weight_update = make_weight_update(loss_terms, cfg.weighting, anchor=problem.residual_names, active=active,
                                       every=cfg.train.eval_every)
    fit_kwargs = dict(weights=dict(cfg.weighting.weights) or None, refresh=refresh, weight_update=weight_update,
                      metrics_fn=_metrics_fn(problem, cfg, data, refresh, np_dtype),
                      context=dict(activations=[cfg.network.activation], dropout=0.0, regularised=False,
                                   optimizer=cfg.train.phases[0].optimizer, lr=cfg.train.phases[0].lr,
                                   relu_like=False, pinn=True))
    if problem.unknowns:
        fit_kwargs["trace_fn"] = lambda m: {f"unknown/{k}": v for k, v in m.unknown_values().items()}
    findings = []
    if problem.time is None and causal is not None:
        raise ConfigError("config error: weighting.causal: the problem has no time input")
    return Setup(model=model, data=data, loss_terms=loss_terms, spec=spec, fit_kwargs=fit_kwargs,
                 findings=findings, extras=dict(colloc=colloc, refresh=refresh))


def _metrics_fn(problem, cfg: Config, data, refresh, np_dtype):
    """metric/rel_l2 on a fixed subsample of the reference after each chunk (and causal weight minimum)."""
    n = cfg.evaluation.metric_points
    ref = problem.reference if n else None
    causal = cfg.weighting.causal
    if ref is None and causal is None:
        return None
    if ref is not None:
        idx = np.random.default_rng(0).choice(len(ref.points), min(n, len(ref.points)), replace=False)
        pts = jnp.asarray(ref.points[idx], np_dtype)
        cols = [problem.outputs.index(o) for o in problem.metric_outputs]
        vals = jnp.asarray(ref.values[idx][:, cols], np_dtype)

        @eqx.filter_jit
        def rel(model):
            err = model(pts)[:, cols] - vals
            return jnp.linalg.norm(err) / jnp.linalg.norm(vals)

    if causal is not None:
        t_axis = problem.inputs.index(problem.time)
        t0, t1 = (float(b[t_axis]) for b in problem.geometry.bbox)

        @eqx.filter_jit
        def w_min(model, x):
            r = residual_norm(model, x)
            return jnp.min(causal_loss(r**2, x[:, t_axis], t0, t1, causal)[1])

    def metrics(model):
        out = {}
        if ref is not None:
            out["rel_l2"] = float(rel(model))
        if causal is not None:
            batch = (refresh.state["last"] if refresh is not None else None) or data
            out["causal_w_min"] = float(w_min(model, jnp.asarray(batch["pde"]["x"])))
        return out

    return metrics


# ---- prediction and evaluation -------------------------------------------------------------------------


@eqx.filter_jit
def _apply(model, x):
    return model(x)


def predict_all(model: PINN, x: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """(n, n_out) outputs at points (n, d_in), in chunks (fixed shapes: the last chunk is padded)."""
    dtype = model.net.layers[0].weight.dtype
    x = np.asarray(x, np.float64)
    out = []
    size = min(chunk, max(len(x), 1))
    for i in range(0, len(x), size):
        part = x[i : i + size]
        pad = np.concatenate([part, np.repeat(part[-1:], size - len(part), axis=0)]) if len(part) < size else part
        out.append(np.asarray(_apply(model, jnp.asarray(pad, dtype)))[: len(part)])
    return np.concatenate(out) if out else np.zeros((0, len(model.problem.outputs)))


def predict(model: PINN, spec: dict, x: np.ndarray) -> np.ndarray:
    """Outputs at points x (n, d_in), columns in the problem's input order (e.g. x then t).
    Returns (n,) for a single output, else (n, n_out) in the problem's output order."""
    x = np.asarray(x, dtype=np.float64)
    inputs = spec.get("inputs") or list(model.problem.inputs)
    if x.ndim == 1 and len(inputs) == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != len(inputs):
        raise ValueError(f"points have shape {x.shape}; this model takes (n, {len(inputs)}) with columns "
                         f"{', '.join(inputs)}")
    y = predict_all(model, x)
    return y[:, 0] if y.shape[1] == 1 else y


@eqx.filter_jit
def _residual_abs(model, x):
    return residual_norm(model, x)


def residual_at(model: PINN, x: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """|residual| (n,) at points x (n, d_in)."""
    dtype = model.net.layers[0].weight.dtype
    out = []
    size = min(chunk, max(len(x), 1))
    for i in range(0, len(x), size):
        part = x[i : i + size]
        pad = np.concatenate([part, np.repeat(part[-1:], size - len(part), axis=0)]) if len(part) < size else part
        out.append(np.asarray(_residual_abs(model, jnp.asarray(pad, dtype)))[: len(part)])
    return np.concatenate(out)


def _rel(a, b) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def evaluate(cfg: Config, setup: Setup, model: PINN, history, run_dir: Path) -> dict:
    from pinngen.pinn import figures

    problem = model.problem
    figs = Path(run_dir) / "figures"
    summary, notes, out = {}, [], {}
    ref = problem.reference
    if ref is not None:
        pred = predict_all(model, ref.points)
        cols = [problem.outputs.index(o) for o in problem.metric_outputs]
        summary["rel_l2"] = _rel(pred[:, cols], ref.values[:, cols])
        summary["max_abs_error"] = float(np.max(np.abs(pred[:, cols] - ref.values[:, cols])))
        if len(problem.outputs) > 1:
            for i, o in enumerate(problem.outputs):
                summary[f"rel_l2_{o}"] = _rel(pred[:, i], ref.values[:, i])
                summary[f"max_abs_error_{o}"] = float(np.max(np.abs(pred[:, i] - ref.values[:, i])))
        res = residual_at(model, ref.points)
        summary["residual_rms"] = float(np.sqrt(np.mean(res**2)))
        notes.append(f"reference: {ref.source}" if ref.source else "reference: closed form")
        if len(problem.metric_outputs) < len(problem.outputs):
            notes.append(f"rel_l2 and max_abs_error compare {', '.join(problem.metric_outputs)}")
        if ref.axes is not None and len(problem.inputs) == 2:
            figures.fields(problem, ref, pred, res, figs, n_slices=cfg.evaluation.n_slices)
    if problem.transform is not None:
        notes.append(f"hard constraints (exact by construction): {', '.join(problem.transform.enforces)}")
    if problem.unknowns:
        vals = {k: float(v) for k, v in model.unknown_values().items()}
        out["unknowns"] = {}
        for k, p in problem.unknowns.items():
            entry = {"value": vals[k], "initial": p.value}
            summary[f"unknown_{k}"] = vals[k]
            if p.true is not None:
                entry.update(true=p.true, rel_error=abs(vals[k] - p.true) / max(abs(p.true), 1e-300))
                summary[f"rel_error_{k}"] = entry["rel_error"]
            out["unknowns"][k] = entry
    if problem.report is not None:
        extra = problem.report(lambda x: predict_all(model, x), figs)
        summary.update(extra.get("summary", {}))
        out["tables"] = extra.get("tables", [])
        notes.extend(extra.get("notes", []))
    out["summary"] = summary
    out["notes"] = notes
    return out
