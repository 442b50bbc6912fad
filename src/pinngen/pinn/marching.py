"""Time marching: split [t0, t1] into windows and train one network per window, in order.

A PINN that must carry an initial state across a long time interval (Allen-Cahn's sharp fronts, KdV's
solitons) learns the whole space-time map at once and tends to settle on a smooth wrong solution. Time
marching (Wight & Zhao 2020, "Solving Allen-Cahn and Cahn-Hilliard equations using the adaptive physics
informed neural networks", arXiv:2007.04542; Mattey & Ghosh 2022, bc-PINN) trains window k on
[t_k, t_{k+1}] only, with the initial condition u(x, t_k) taken from window k-1's network at its final
time. Each window is a short, easy problem; together they cover the interval.

- Window 1 keeps the problem's own initial condition (hard, if the problem's transform enforces it).
- Windows 2..K fit the previous window's prediction at t_k as a soft ``ic`` term on ``n_ic`` points
  (weight ``weighting.weights.ic``, default 1). A hard form would need every earlier network at once.
- Each window runs the configured phases in full, with its own collocation points, causal weights and
  checkpoints (``checkpoint/window<k>``); ``warm_start`` starts window k from window k-1's weights.
- The model, :class:`Marching`, evaluates each point with the network of its window.

Supported: time-dependent problems whose conditions are boundary / periodic / initial-value ones and
whose hard transform (if any) enforces only the initial value. Not supported: second-order-in-time
initial rates, observations (inverse problems), unknown parameters.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pinngen.core import checkpoint as ckpt
from pinngen.core.history import History, phase_runs
from pinngen.core.io import write_unit
from pinngen.pinn.conditions import InitialValue
from pinngen.pinn.geometry import SpaceTime, TimeDomain
from pinngen.pinn.problem import Problem


class MarchingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    windows: int = Field(1, ge=1, description="time windows trained in order (1: no marching)")
    n_ic: int = Field(1024, ge=1, description="points of the soft initial condition of windows 2..K")
    warm_start: bool = Field(True, description="start each window from the previous window's weights")


def check_supported(problem: Problem) -> None:
    """ValueError naming what stops ``problem`` from being solved by time marching."""
    if problem.time is None or not isinstance(problem.geometry, SpaceTime):
        raise ValueError(f"problem {problem.name!r} has no time input (a SpaceTime geometry); marching needs one")
    bad = [c.name for c in problem.conditions
           if c.kind == "data" or (c.kind == "initial" and not isinstance(c, InitialValue))]
    if bad:
        raise ValueError(f"problem {problem.name!r}: conditions {bad} (observations or initial rates) are not "
                         f"supported with marching")
    if problem.unknowns:
        raise ValueError(f"problem {problem.name!r} has unknown parameters; marching solves forward problems only")
    if problem.transform is not None and set(problem.transform.enforces) - {"initial value"}:
        raise ValueError(f"problem {problem.name!r}: its hard constraints ({', '.join(problem.transform.enforces)}) "
                         f"would hold in the first window only; use the problem's soft option (hard: false)")


def edges(problem: Problem, windows: int) -> tuple[float, ...]:
    t0, t1 = problem.geometry.t0, problem.geometry.t1
    return tuple(float(v) for v in np.linspace(t0, t1, windows + 1))


def window_problem(problem: Problem, k: int, bounds: Sequence[float], *, ic_value=0.0, n_ic: int = 1024) -> Problem:
    """The problem on window k (0-based) of ``bounds``; for k >= 1 its initial condition is a soft ``ic``
    term with ``ic_value`` (a number or ``coords -> (n, n_out)``)."""
    a, b = bounds[k], bounds[k + 1]
    geometry = SpaceTime(problem.geometry.space, TimeDomain(a, b))
    conditions = []
    for c in problem.conditions:
        if k > 0 and c.kind == "initial":
            continue
        conditions.append(copy.copy(c))
    if k > 0:
        conditions.append(InitialValue(ic_name(problem), value=ic_value, n=n_ic))
    return Problem(name=f"{problem.name}[{a:g},{b:g}]", inputs=problem.inputs, outputs=problem.outputs,
                   geometry=geometry, residual=problem.residual, conditions=conditions,
                   parameters=problem.parameters, transform=problem.transform if k == 0 else None,
                   time=problem.time, periodic=problem.periodic, metric_outputs=problem.metric_outputs,
                   description=problem.description, residual_weight=problem.residual_weight)


def ic_name(problem: Problem) -> str:
    return next((c.name for c in problem.conditions if c.kind == "initial"), "ic")


class Marching(eqx.Module):
    """One network per time window; ``model(x)`` takes each row's output from its window's network."""

    models: tuple
    problem: Problem = eqx.field(static=True)
    bounds: tuple[float, ...] = eqx.field(static=True)

    @property
    def net(self):  # the dtype probe of predict_all
        return self.models[0].net

    @property
    def unknowns(self) -> dict:
        return {}

    def parameter_values(self) -> dict:
        return self.problem.parameter_values()

    def unknown_values(self) -> dict:
        return {}

    def window_index(self, t: jax.Array) -> jax.Array:
        inner = jnp.asarray(self.bounds[1:-1], t.dtype)
        return jnp.searchsorted(inner, t, side="right")

    def __call__(self, x: jax.Array) -> jax.Array:
        t = x[:, self.problem.inputs.index(self.problem.time)]
        idx = self.window_index(t)
        out = self.models[0](x)
        for k, m in enumerate(self.models[1:], start=1):
            out = jnp.where((idx == k)[:, None], m(x), out)
        return out


def build(problem: Problem, spec: MarchingSpec, make_net: Callable[[Problem, int], eqx.Module]) -> Marching:
    """A :class:`Marching` template: ``make_net(window_problem, k)`` builds window k's network."""
    bounds = edges(problem, spec.windows)
    nets = tuple(make_net(window_problem(problem, k, bounds, n_ic=spec.n_ic), k) for k in range(spec.windows))
    return Marching(models=nets, problem=problem, bounds=bounds)


def merge_histories(parts: Sequence[History]) -> History:
    """One History for all windows: steps continue across windows, phases are ``w<k>/<phase>``, ``time``
    keeps counting, ``meta["phases"]`` lists every window's phases (with ``window``), and ``meta["context"]``
    is the windows' diagnosis context."""
    out = History()
    out.meta = {"phases": [], "windows": len(parts)}
    context = next((h.meta["context"] for h in parts if "context" in h.meta), None)
    if context is not None:  # what the diagnosis should know (e.g. the redraw period) holds for every window
        out.meta["context"] = context
    offset, t_offset = 0, 0.0
    for k, h in enumerate(parts, start=1):
        if not len(h):
            continue
        steps, phases = h.steps, h.phases
        cols = {c: h.column(c).copy() for c in h.columns}
        if "time" in cols:
            cols["time"] = cols["time"] + t_offset
        for a, b in phase_runs(phases):
            out.extend(steps[a:b] + offset, f"w{k}/{phases[a]}", {c: v[a:b] for c, v in cols.items()})
        for p in h.meta.get("phases", []):
            out.meta["phases"].append({**p, "window": k})
        for key in ("diverged", "restored_best_step"):
            if key in h.meta:
                out.meta.setdefault(f"window{k}", {})[key] = h.meta[key]
        offset += int(steps.max()) + 1
        if "time" in cols:
            finite = cols["time"][np.isfinite(cols["time"])]
            t_offset = float(finite.max()) if finite.size else t_offset
    out.meta["diverged"] = any(h.meta.get("diverged", False) for h in parts)
    return out


def finished(directory) -> bool:
    """Whether a window's final model and history were written (so ``--resume`` skips it)."""
    return (Path(directory) / "final" / "history.meta.json").exists()


def save_window(directory, net, history: History) -> None:
    """A finished window as one unit: weights, history and its meta appear together or not at all."""
    files = {"weights.npz": ckpt.tree_to_bytes(net), "history.csv": history.to_csv_text().encode(),
             "history.meta.json": (json.dumps(history.meta, default=str) + "\n").encode()}
    write_unit(Path(directory) / "final", files)


def load_window(directory, template) -> tuple[eqx.Module, History]:
    d = Path(directory) / "final"
    history = History.from_csv(d / "history.csv")
    history.meta = json.loads((d / "history.meta.json").read_text())
    return ckpt.load_model(d, template), history


def train(model: Marching, spec: MarchingSpec, fit_window: Callable, predict: Callable) -> tuple[Marching, History]:
    """Train the windows in order. ``fit_window(k, window_problem, init_model) -> (model, history)`` trains
    one window; ``predict(model, x) -> (n, n_out)`` evaluates a window's network on host points."""
    problem, bounds = model.problem, model.bounds
    nets, parts = list(model.models), []
    t_start = time.perf_counter()
    for k in range(len(nets)):
        if k == 0:
            wp = window_problem(problem, 0, bounds, n_ic=spec.n_ic)
        else:
            prev = nets[k - 1]

            def ic_value(c, prev=prev):
                x = np.column_stack([np.asarray(c[name], np.float64) for name in problem.inputs])
                return predict(prev, x)

            wp = window_problem(problem, k, bounds, ic_value=ic_value, n_ic=spec.n_ic)
            same_form = (problem.transform is None) or k >= 2
            if spec.warm_start and same_form:
                nets[k] = eqx.tree_at(lambda m: m.net, nets[k], prev.net)
        nets[k], h = fit_window(k, wp, nets[k])
        parts.append(h)
    history = merge_histories(parts)
    history.meta["marching_seconds"] = time.perf_counter() - t_start
    return Marching(models=tuple(nets), problem=problem, bounds=bounds), history
