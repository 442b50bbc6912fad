"""The ``pinn`` experiment kind: a library problem, a network, collocation, loss weighting and phases.

::

    kind: pinn
    problem: burgers            # a name from pinngen.pinn.problems, or your own: my_pde.py:make_problem
    options: {hard: false}      # the problem factory's keyword options
    observations: null          # or {path: obs.csv}: measured data (columns named after inputs and outputs)
    network: {hidden: [20, 20, 20, 20, 20, 20, 20, 20], activation: tanh}
    collocation: {n_domain: 4000, n_boundary: 100, n_initial: 200, method: sobol, resample_every: 1000}
    weighting: {weights: {ic: 10}, scheme: fixed, causal: null}
    train: {phases: [{optimizer: adam, steps: 10000}, {optimizer: lbfgs, steps: 5000}]}
    marching: {windows: 10, n_ic: 1024}   # optional time marching: the phases run once per window

evaluate() writes the relative L2 and max error on the reference grid (``rel_l2``, ``max_abs_error``),
identified unknowns (``unknowns`` in metrics.json), and figures: prediction/reference/error maps, slices
at a few times, and the residual map.
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pinngen.config import ActivationName, ConfigError, InitName, RunConfig
from pinngen.core import dtypes
from pinngen.core.batched import batched_apply, call_model
from pinngen.core.diagnose import DiagnoseContext
from pinngen.core.kind import Kind
from pinngen.core.setup import Setup
from pinngen.core.train import fit
from pinngen.pinn import marching, user_problem
from pinngen.pinn import problems as library
from pinngen.pinn.collocation import Collocation, CollocationSpec, first_order_steps, make_refresh, redraw_steps
from pinngen.pinn.loss import causal_loss, make_loss_terms, residual_norm
from pinngen.pinn.marching import Marching, MarchingSpec, check_supported
from pinngen.pinn.network import PINN
from pinngen.pinn.residual_checks import residual_findings
from pinngen.pinn.weighting import WeightingSpec, make_weight_update

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
    validation_points: int = Field(0, ge=0, description="uniform domain points never trained on, drawn once from "
                                   "the run's seed: metric/val_residual (their residual RMS) at every evaluation; "
                                   "monitor it with train.early_stopping {monitor: metric/val_residual, "
                                   "restore_at_end: true} to keep the best model without a reference")
    validation_observations: float = Field(0.0, ge=0.0, lt=1.0, description="share of each observation set held "
                                           "out of training (drawn from the run's seed): metric/val_data, the RMS "
                                           "misfit there, at every evaluation (e.g. to stop before fitting noise)")


class ObservationsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="CSV with a header (or .npz / structured .npy) whose columns are named after the "
                                  "problem's inputs and outputs")
    name: str = Field("observations", description="the loss term's name")
    noise: float = Field(0.0, ge=0.0, description="add noise * std(values) Gaussian noise, drawn from the run's seed "
                                                   "(for synthetic studies; 0 for measured data)")


class Config(RunConfig):
    kind: Literal["pinn"] = "pinn"
    problem: str = Field("burgers", description="a library problem, or path.py:function for your own")
    observations: ObservationsSpec | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="keyword options of the problem factory")
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    collocation: CollocationSpec = Field(default_factory=CollocationSpec)
    weighting: WeightingSpec = Field(default_factory=WeightingSpec)
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    marching: MarchingSpec = Field(default_factory=MarchingSpec)

    @field_validator("problem")
    @classmethod
    def _problem(cls, v):
        if v.replace("-", "_") not in library.PROBLEMS and not user_problem.is_file_problem(v):
            raise ValueError(f"unknown problem {v!r}; choose one of {', '.join(sorted(library.PROBLEMS))}, or "
                             f"give your own as path/to/file.py:factory")
        return v


def build_problem(name: str, options: dict, *, sha256: str | None = None):
    if user_problem.is_file_problem(name):
        return user_problem.build(name, options, sha256=sha256)
    try:
        return library.get_problem(name, **options)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"config error: options: {err}") from None


def _net(problem, spec: dict, key) -> PINN:
    net = dict(spec["network"])
    periodic = sorted(problem.periodic) if net.pop("periodic", False) else None
    return PINN(problem, periodic=periodic, key=key, dtype=dtypes.jnp_dtype(spec.get("dtype")), **net)


def template(spec: dict, key=None):
    """The model's structure from its spec: a :class:`PINN`, or a :class:`Marching` of one per window."""
    problem = build_problem(spec["problem"], spec.get("options", {}), sha256=spec.get("problem_sha256"))
    key = key if key is not None else jax.random.PRNGKey(0)
    mspec = MarchingSpec(**(spec.get("marching") or {}))
    if mspec.windows == 1:
        return _net(problem, spec, key)
    try:
        check_supported(problem)
    except ValueError as err:
        raise ConfigError(f"config error: marching: {err}") from None
    keys = jax.random.split(key, mspec.windows)
    return marching.build(problem, mspec, lambda wp, k: _net(wp, spec, keys[k]))


def _check_weights(weights, names) -> None:
    bad = sorted(set(weights) - set(names))
    if bad:
        raise ConfigError(f"config error: weighting.weights: unknown term(s) {bad}; the loss terms are "
                          f"{sorted(names)}")


def _parts(problem, cfg: Config, np_dtype, *, seed: int, window: tuple[float, float] | None = None,
           reference=None, held_out=None) -> dict:
    """Collocation, loss terms and fit keyword arguments for ``problem`` (a whole problem, or one window
    of a marching run: ``window`` = its time bounds, for the training-time rel_l2)."""
    colloc = Collocation(problem, cfg.collocation, seed=seed, dtype=np_dtype)
    data = colloc.batch(0)
    causal = cfg.weighting.causal
    try:
        loss_terms = make_loss_terms(problem, causal)
    except ValueError as err:
        raise ConfigError(f"config error: weighting.causal: {err}") from None
    names = set(problem.residual_names) | {c.name for c in problem.conditions}
    weights = dict(cfg.weighting.weights)
    if window is not None:  # terms of other windows (e.g. the soft ic of windows 2..K) are not errors here
        weights = {k: v for k, v in weights.items() if k in names}
    _check_weights(weights, names)
    active = first_order_steps(cfg.train.phases)
    try:
        refresh = make_refresh(colloc, active=redraw_steps(cfg.train.phases, cfg.collocation), dtype=np_dtype,
                               time_limit=cfg.train.max_train_seconds)
    except ValueError as err:
        raise ConfigError(f"config error: {err}") from None
    weight_update = make_weight_update(loss_terms, cfg.weighting, anchor=problem.residual_names, active=active,
                                       every=cfg.weighting.update_every or cfg.train.eval_every)
    fit_kwargs = dict(weights=weights or None, refresh=refresh, weight_update=weight_update,
                      metrics_fn=_metrics_fn(problem, cfg, data, refresh, np_dtype, window=window,
                                             reference=reference, held_out=held_out),
                      context=DiagnoseContext(activations=[cfg.network.activation], family_name="pinn",
                                              optimizer=cfg.train.phases[0].optimizer,
                                              lr=cfg.train.phases[0].lr,
                                              data_redraw_every=getattr(refresh, "every", None)).to_dict())
    if problem.unknowns:
        fit_kwargs["trace_fn"] = lambda m: {f"unknown/{k}": v for k, v in m.unknown_values().items()}
    return dict(colloc=colloc, data=data, loss_terms=loss_terms, refresh=refresh, fit_kwargs=fit_kwargs)


def _problem_spec(cfg: Config) -> dict:
    """problem, options and, for a user's file, its absolute path and SHA-256. A factory that draws data
    (``seed`` option) gets the run's seed unless the config sets one, so ``--seed`` drives every draw."""
    options = dict(cfg.options)
    if user_problem.is_file_problem(cfg.problem):
        path, fn = user_problem.split(cfg.problem)
        _, f = user_problem.factory(cfg.problem)
        takes = inspect.signature(f).parameters
        spec = dict(problem=f"{path.resolve()}:{fn}", problem_sha256=user_problem.digest(path))
    else:
        takes, spec = library.options(cfg.problem), dict(problem=cfg.problem)
    if "seed" in takes and "seed" not in options:
        options["seed"] = cfg.seed
    return dict(spec, options=options)


def setup(cfg: Config) -> Setup:
    spec = dict(_problem_spec(cfg), network=cfg.network.model_dump(), dtype=cfg.dtype)
    if cfg.marching.windows > 1:
        spec["marching"] = cfg.marching.model_dump()
    model = template(spec, key=jax.random.PRNGKey(cfg.seed))
    problem = model.problem
    if cfg.observations is not None:
        if isinstance(model, Marching):
            raise ConfigError("config error: observations: time marching does not take observations from a file; "
                              "set marching.windows: 1")
        o = cfg.observations
        user_problem.observations(problem, o.path, name=o.name, noise=o.noise, seed=cfg.seed + 7919)
    spec.update(inputs=list(problem.inputs), outputs=list(problem.outputs))
    dtype = dtypes.np_dtype(cfg.dtype)
    if problem.time is None and cfg.weighting.causal is not None:
        raise ConfigError("config error: weighting.causal: the problem has no time input")
    if isinstance(model, Marching):
        return _marching_setup(cfg, model, spec, dtype)
    held_out = _hold_out_observations(problem, cfg.evaluation.validation_observations, cfg.seed)
    parts = _parts(problem, cfg, dtype, seed=cfg.seed, held_out=held_out)
    return Setup(model=model, data=parts["data"], loss_terms=parts["loss_terms"], spec=spec,
                 fit_kwargs=parts["fit_kwargs"], findings=[],
                 extras=dict(colloc=parts["colloc"], refresh=parts["refresh"]))


def _hold_out_observations(problem, share: float, seed: int) -> list | None:
    """Move ``share`` of every observation condition's points out of training; [(condition, x, values)]."""
    if not share:
        return None
    data = [c for c in problem.conditions if c.kind == "data"]
    if not data:
        raise ConfigError("config error: evaluation.validation_observations: the problem has no observations; "
                          "remove it (or use evaluation.validation_points for held-out residual points)")
    out = []
    for i, c in enumerate(data):
        order = np.random.default_rng([seed, 0xDA7A, i]).permutation(len(c.points))
        k = int(round(share * len(order)))
        if not 1 <= k < len(order):
            raise ConfigError(f"config error: evaluation.validation_observations={share}: condition {c.name!r} "
                              f"has {len(order)} points, so {k} would be held out; use a share that leaves at least "
                              f"one point on each side")
        out.append((c, c.points[order[:k]], c.values[order[:k]]))
        c.points, c.values = c.points[order[k:]], c.values[order[k:]]
        c.n = len(c.points)
    return out


def _marching_setup(cfg: Config, model: Marching, spec: dict, np_dtype) -> Setup:
    names = {c.name for c in model.problem.conditions} | set(model.problem.residual_names)
    names.add(marching.ic_name(model.problem))
    _check_weights(cfg.weighting.weights, names)
    ref = model.problem.reference
    first = _parts(model.models[0].problem, cfg, np_dtype, seed=cfg.seed, window=model.bounds[:2], reference=ref)

    def train(*, key, checkpoint_dir, resume, **_):
        def fit_window(k, wp, net):
            parts = first if k == 0 else _parts(wp, cfg, np_dtype, seed=cfg.seed + k,
                                                window=model.bounds[k : k + 2], reference=ref)
            log.info("marching: window %d/%d, t in [%g, %g]", k + 1, len(model.models), *model.bounds[k : k + 2])
            ck = None if checkpoint_dir is None else Path(checkpoint_dir) / f"window{k + 1}"
            if resume and ck is not None and marching.finished(ck):
                log.info("marching: window %d already trained (%s)", k + 1, ck)
                return marching.load_window(ck, net)
            net, history = fit(net, parts["data"], cfg.train, loss_terms=parts["loss_terms"], seed=cfg.seed + k,
                               key=jax.random.fold_in(key, k), checkpoint_dir=ck, resume=resume,
                               **parts["fit_kwargs"])
            if ck is not None:
                marching.save_window(ck, net, history)
            return net, history

        return marching.train(model, cfg.marching, fit_window, predict_all)

    return Setup(model=model, data=first["data"], loss_terms=first["loss_terms"], spec=spec,
                 fit_kwargs=first["fit_kwargs"], findings=[], extras=dict(colloc=first["colloc"]), train=train)


def _metrics_fn(problem, cfg: Config, data, refresh, np_dtype, *, window=None, reference=None, held_out=None):
    """metric/rel_l2 on a fixed subsample of the reference after each chunk (and causal weight minimum);
    for a marching window (``window`` = (t_a, t_b); ``problem`` that window's) on the reference points
    of the window only."""
    n = cfg.evaluation.metric_points
    ref = (reference if window is not None else problem.reference) if n else None
    causal = cfg.weighting.causal
    n_val = cfg.evaluation.validation_points
    if ref is None and causal is None and not n_val and not held_out:
        return None
    if held_out:
        held = [(c, jnp.asarray(x, np_dtype), jnp.asarray(v, np_dtype)) for c, x, v in held_out]
        n_held = sum(v.size for _, _, v in held)
        val_data = eqx.filter_jit(lambda model: jnp.sqrt(sum(jnp.sum((c._comp(model(x)) - v) ** 2)
                                                             for c, x, v in held) / n_held))
    if n_val:  # a fixed held-out set, its own stream of the run's seed (never a training or candidate draw)
        stream = [cfg.seed, 0x5EED, abs(int(1e6 * window[0])) if window is not None else 0]
        val_x = jnp.asarray(problem.geometry.sample_interior(n_val, method="uniform",
                                                             rng=np.random.default_rng(stream)), np_dtype)
        val_rms = eqx.filter_jit(lambda model: jnp.sqrt(jnp.mean(residual_norm(model, val_x) ** 2)))
    if ref is not None:
        candidates = np.arange(len(ref.points))
        if window is not None:
            t = ref.points[:, problem.inputs.index(problem.time)]
            candidates = candidates[(t >= window[0]) & (t <= window[1])]
        idx = np.random.default_rng(0).choice(candidates, min(n, len(candidates)), replace=False)
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
        if n_val:
            out["val_residual"] = float(val_rms(model))
        if held_out:
            out["val_data"] = float(val_data(model))
        if causal is not None:
            batch = (refresh.state["last"] if refresh is not None else None) or data
            out["causal_w_min"] = float(w_min(model, jnp.asarray(batch["pde"]["x"])))
        return out

    return metrics


# ---- prediction and evaluation -------------------------------------------------------------------------


def predict_all(model: PINN, x: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """(n, n_out) outputs at points (n, d_in), in padded chunks of ``chunk`` points (one compile)."""
    dtype = model.net.layers[0].weight.dtype
    return batched_apply(call_model, np.asarray(x, np.float64), args=(model,), batch_size=chunk, dtype=dtype)


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


def residual_at(model: PINN, x: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """|residual| (n,) at points x (n, d_in), in padded chunks of ``chunk`` points (one compile)."""
    dtype = model.net.layers[0].weight.dtype
    return batched_apply(residual_norm, np.asarray(x), args=(model,), batch_size=chunk, dtype=dtype)


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
                if o not in problem.metric_outputs and not np.any(ref.values[:, i]):
                    continue  # no reference values for this output (e.g. the cavity's pressure)
                summary[f"rel_l2_{o}"] = _rel(pred[:, i], ref.values[:, i])
                summary[f"max_abs_error_{o}"] = float(np.max(np.abs(pred[:, i] - ref.values[:, i])))
        res = residual_at(model, ref.points)
        summary["residual_rms"] = float(np.sqrt(np.mean(res**2)))
        _residual_checks(setup, problem, model, history, res, ref.points, f"the {len(res):,} reference points", summary)
        notes.append(f"reference: {ref.source}" if ref.source else "reference: closed form")
        if len(problem.metric_outputs) < len(problem.outputs):
            notes.append(f"rel_l2 and max_abs_error compare {', '.join(problem.metric_outputs)}")
        if ref.axes is not None and len(problem.inputs) == 2:
            figures.fields(problem, ref, pred, res, figs, n_slices=cfg.evaluation.n_slices)
        if figures.error_vs_time(history, figs / "error_vs_time.png") is not None:
            if history.meta.get("windows", 1) > 1:  # each window's own error, not the whole interval's
                notes.append("time marching: the error-against-time curve is each window's error on its own "
                             "time interval, so no time to a given accuracy of the whole solution is reported")
            else:
                summary.update(figures.time_to_accuracy(history))
    else:
        # no reference (a user's own problem): the PDE residual on a dense, seeded set of points of the domain
        pts = problem.geometry.sample_interior(4096, method="uniform", rng=np.random.default_rng(cfg.seed + 104729))
        res = residual_at(model, pts)
        summary["residual_rms"] = float(np.sqrt(np.mean(res**2)))
        _residual_checks(setup, problem, model, history, res, pts, "4,096 random points of the domain", summary)
        notes.append("no reference solution: residual_rms is the PDE residual on 4,096 random points of the domain")
    for c in problem.conditions:
        if getattr(c, "kind", None) == "data" and cfg.observations is not None and c.name == cfg.observations.name:
            fit_err = predict_all(model, c.points)[:, [problem.outputs.index(o) for o in c.components]] - c.values
            summary[f"rmse_{c.name}"] = float(np.sqrt(np.mean(fit_err**2)))
            notes.append(f"{c.name}: {len(c.points)} observations from {cfg.observations.path}; rmse_{c.name} is the "
                         f"fit to them (their noise included)")
    if user_problem.is_file_problem(cfg.problem):
        from pinngen.core.io import atomic_write_bytes

        path, fn = user_problem.split(cfg.problem)
        atomic_write_bytes(Path(run_dir) / "problem_source.py", path.read_bytes())
        notes.append(f"problem: {fn} from {path} (a copy: problem_source.py; the run reloads the file itself and "
                     f"refuses it if it has changed)")
    if isinstance(model, Marching):
        notes.append(f"time marching: {len(model.models)} windows with edges "
                     f"{', '.join(f'{b:g}' for b in model.bounds)}; windows 2..{len(model.models)} start from the "
                     f"previous window's prediction (a soft term)")
        summary["windows"] = len(model.models)
    if problem.transform is not None:
        where = " (first window)" if isinstance(model, Marching) else ""
        notes.append(f"hard constraints (exact by construction){where}: {', '.join(problem.transform.enforces)}")
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


def _residual_checks(setup, problem, model, history, res, pts, where: str, summary: dict) -> None:
    """Residual off the training points (a wrong answer without a reference): findings and numbers."""
    if isinstance(model, Marching):  # each window has its own training residual; not compared here
        return
    found, numbers = residual_findings(res, pts, problem.inputs, problem.geometry.bbox, history,
                                       step=int(len(history)) - 1 if len(history) else None, where=where)
    summary.update({k: v for k, v in numbers.items() if k != "residual_rms"})
    setup.findings.extend(found)


def headline(metrics: dict) -> str:
    """The identified unknowns (inverse problems) and the relative L2 error against the reference."""
    from pinngen.report.lead import finite, number, percent

    s = metrics.get("summary", {})
    found = []
    for name, u in (metrics.get("unknowns") or {}).items():
        if isinstance(u, dict) and finite(u.get("value")):
            truth = f" (true {number(u['true'])}, {percent(u['rel_error'])} off)" if finite(u.get("rel_error")) else ""
            found.append(f"{name} = {number(u['value'])}{truth}")
    parts = [f"identified {', '.join(found)}"] if found else []
    if finite(s.get("rel_l2")):
        notes = [n for n in metrics.get("notes") or [] if isinstance(n, str) and n.startswith("reference: ")]
        source = f"the reference ({notes[0].removeprefix('reference: ')})" if notes else "the reference"
        text = f"relative L2 error {number(s['rel_l2'])} ({percent(s['rel_l2'])}) against {source}"
        if finite(s.get("max_abs_error")):
            text += f", max abs error {number(s['max_abs_error'])}"
        if s.get("windows"):
            text += f", over {s['windows']} time-marching windows"
        parts.append(text)
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


KIND = Kind(name="pinn", Config=Config, setup=setup, evaluate=evaluate, template=template, predict=predict,
            headline=headline, lead_tables=("Identified unknowns", "Centre lines"),
            description="physics-informed network for a library PDE problem",
            contract_config=dict(problem="heat", network=dict(hidden=[8, 8]),
                                 collocation=dict(n_domain=64, n_boundary=16, n_initial=16, resample_every=10),
                                 evaluation=dict(metric_points=64),
                                 train=dict(eval_every=10, phases=[dict(optimizer="adam", steps=20, lr=1e-3),
                                                                   dict(optimizer="lbfgs", steps=10)])))
