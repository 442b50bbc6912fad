"""The PINN problem as a declarative spec: geometry, residual, named conditions, parameters, reference.

A :class:`Problem` says WHAT is solved; :mod:`pinngen.pinn.network`, :mod:`~pinngen.pinn.collocation`,
:mod:`~pinngen.pinn.loss` and :mod:`~pinngen.pinn.weighting` say HOW. Library problems are factory
functions in :mod:`pinngen.pinn.problems` that return a ``Problem``; there is no subclass per equation
(the PINA idea of a problem separate from its solver).

The residual is a plain function of named derivatives and parameters::

    def burgers(d, p):                       # d: Fields at the collocation points, p: parameter values
        return d["u_t"] + d["u"] * d["u_x"] - p["nu"] * d["u_xx"]       # (n,)

``d[key]`` follows :class:`pinngen.pinn.operators.Derivatives` (``"u"``, ``"u_xt"``, or ``"xx"`` for a
single output); ``d.coords["x"]`` is the coordinate column (n,). A residual may return one array, a
tuple of arrays (summed into the single ``pde`` term) or a dict ``{name: array}`` (one term
``pde_<name>`` each, so equations can be weighted separately).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from pinngen.pinn.geometry import Domain
from pinngen.pinn.operators import Derivatives

TRANSFORMS = ("none", "positive", "exp", "bounded")


# ---- parameters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """A named PDE coefficient: known (a constant), or unknown (trained; the inverse problem).

    ``value`` is the constant, or the initial guess of an unknown. ``transform`` maps the trained raw
    number to the value: "none" (identity), "positive" (softplus), "exp", "bounded" (``lo + (hi - lo)
    sigmoid``, needs ``bounds``). ``true`` is only used to report the error of an identified value.
    """

    value: float
    unknown: bool = False
    transform: str = "none"
    bounds: tuple[float, float] | None = None
    true: float | None = None

    def __post_init__(self):
        if self.transform not in TRANSFORMS:
            raise ValueError(f"transform={self.transform!r}; choose one of {TRANSFORMS}")
        if not math.isfinite(self.value):
            raise ValueError(f"value={self.value!r} must be finite")
        if self.transform == "bounded":
            if self.bounds is None or not self.bounds[0] < self.value < self.bounds[1]:
                raise ValueError(f"transform='bounded' needs bounds=(lo, hi) with lo < value={self.value} < hi; "
                                 f"got bounds={self.bounds}")
        if self.transform in ("positive", "exp") and self.value <= 0:
            raise ValueError(f"transform={self.transform!r} needs a positive initial value; got {self.value}")

    def raw_init(self) -> float:
        """The raw (trained) number whose transform is ``value``."""
        v = float(self.value)
        if self.transform == "positive":
            return v + math.log(-math.expm1(-v))  # softplus^-1, stable for large v
        if self.transform == "exp":
            return math.log(v)
        if self.transform == "bounded":
            lo, hi = self.bounds
            s = (v - lo) / (hi - lo)
            return math.log(s / (1.0 - s))
        return v

    def apply(self, raw):
        """Value of the raw number (traceable)."""
        if self.transform == "positive":
            return jax.nn.softplus(raw)
        if self.transform == "exp":
            return jnp.exp(raw)
        if self.transform == "bounded":
            lo, hi = self.bounds
            return lo + (hi - lo) * jax.nn.sigmoid(raw)
        return raw


def known(value: float) -> Parameter:
    """A fixed coefficient."""
    return Parameter(float(value))


def unknown(init: float, *, transform: str = "none", bounds: tuple[float, float] | None = None,
            true: float | None = None) -> Parameter:
    """A coefficient to identify from data, starting at ``init``."""
    return Parameter(float(init), unknown=True, transform=transform,
                     bounds=None if bounds is None else (float(bounds[0]), float(bounds[1])),
                     true=None if true is None else float(true))


# ---- reference solutions ------------------------------------------------------------------------------


@dataclass
class Reference:
    """Reference values at points: ``points`` (m, d_in), ``values`` (m, n_out).

    For 2-D inputs on a tensor grid, ``axes`` holds the grid's 1-D coordinates in input order, and the
    points are ordered with the LAST input slowest: ``values.reshape(len(axes[1]), len(axes[0]), n_out)``
    is indexed ``[i, j] = (axes[0][j], axes[1][i])`` (time-major rows, as in ``pinn.reference``).
    """

    points: np.ndarray
    values: np.ndarray
    axes: tuple[np.ndarray, ...] | None = None
    source: str = ""

    @classmethod
    def from_grid(cls, axes: Sequence[np.ndarray], values, *, source: str = "") -> Reference:
        """``values`` (len(axes[1]), len(axes[0])) or with a trailing output axis."""
        a0, a1 = (np.asarray(a, np.float64) for a in axes)
        v = np.asarray(values, np.float64)
        if v.ndim == 2:
            v = v[..., None]
        if v.shape[:2] != (len(a1), len(a0)):
            raise ValueError(f"grid values have shape {v.shape}; expected ({len(a1)}, {len(a0)}[, n_out])")
        g0, g1 = np.meshgrid(a0, a1)
        pts = np.column_stack([g0.ravel(), g1.ravel()])
        return cls(points=pts, values=v.reshape(len(pts), -1), axes=(a0, a1), source=source)

    def grid(self, values: np.ndarray) -> np.ndarray:
        """Reshape point values (m, ...) to the grid (len(axes[1]), len(axes[0]), ...)."""
        if self.axes is None:
            raise ValueError("this reference is not on a grid")
        return np.asarray(values).reshape(len(self.axes[1]), len(self.axes[0]), *np.shape(values)[1:])


# ---- what a residual sees -----------------------------------------------------------------------------


class Fields:
    """Named derivatives (``d["u_xx"]``), coordinates (``d.coords["x"]``) and all points ``d.x`` (n, d_in).

    ``used`` collects the derivative orders read (sorted dims tuples); ``prefetch`` computes given orders
    longest first, so each nested-jvp chain also yields the lower orders on its way (see
    :class:`pinngen.pinn.operators.Derivatives`)."""

    def __init__(self, f: Callable, x: jax.Array, inputs: Sequence[str], outputs: Sequence[str]):
        self._d = Derivatives(f, x, names=tuple(inputs), components=tuple(outputs))
        self.x = x
        self.coords = {name: x[:, i] for i, name in enumerate(inputs)}
        self.used: set[tuple[int, ...]] = set()

    def __getitem__(self, key: str) -> jax.Array:
        self.used.add(tuple(sorted(self._d._parse(key)[1])))
        return self._d[key]

    def partial(self, *dims: int) -> jax.Array:
        out = self._d.partial(*dims)
        self.used.add(tuple(sorted(dims)))
        return out

    def prefetch(self, orders) -> Fields:
        for dims in sorted(orders, key=len, reverse=True):
            self._d.partial(*dims)
        return self


# ---- the problem ---------------------------------------------------------------------------------------


class Problem:
    """Declarative PDE problem. Keyword-only; validated at once (names, parts, parameters).

    Args:
        name: short identifier used in messages.
        inputs: input names in column order, e.g. ("x", "t"); time last by convention.
        outputs: output names, e.g. ("u",) or ("u", "v", "p").
        geometry: the (space-time) domain; its bbox gives the network's input normalisation.
        residual: ``(d: Fields, p: {name: value}) -> array (n,) | tuple | dict`` (see module docstring).
        conditions: named conditions (:mod:`pinngen.pinn.conditions`); each is one loss term.
        parameters: ``{name: Parameter | float}``; floats are known constants.
        exact: optional JAX closed form ``x (n, d_in) -> (n, n_out)``.
        reference: optional :class:`Reference`, or a zero-argument callable returning one (computed lazily).
        transform: optional hard-constraint output transform (:class:`pinngen.pinn.conditions.OutputTransform`).
        time: name of the time input (default "t" if present); enables causal weighting.
        periodic: ``{input name: period}`` where the solution is periodic (for periodic embeddings).
        metric_outputs: outputs compared with the reference in ``rel_l2`` (default: all).
        report: optional ``(predict, figures_dir) -> {"summary", "tables", "notes"}`` for problem-specific
            checks (predict: points (m, d_in) -> (m, n_out)).
        residual_weight: optional JAX ``coords -> (n,)`` weight >= 0 of each point's squared residual in the
            ``pde`` terms (e.g. a taper near a singular corner, where the residual cannot vanish).
    """

    def __init__(self, *, name: str, inputs: Sequence[str], outputs: Sequence[str], geometry: Domain,
                 residual: Callable, conditions: Sequence = (), parameters: Mapping | None = None,
                 exact: Callable | None = None, reference=None, transform=None, time: str | None = None,
                 periodic: Mapping[str, float] | None = None, metric_outputs: Sequence[str] | None = None,
                 report: Callable | None = None, description: str = "", residual_weight: Callable | None = None):
        self.name = str(name)
        self.inputs, self.outputs = tuple(inputs), tuple(outputs)
        if not isinstance(geometry, Domain):
            raise ValueError(f"problem {self.name!r}: geometry must be a pinn.geometry Domain; "
                             f"got {type(geometry).__name__}")
        if geometry.dim != len(self.inputs):
            raise ValueError(f"problem {self.name!r}: inputs {self.inputs} has {len(self.inputs)} names but the "
                             f"geometry {geometry!r} has dim {geometry.dim}")
        if not callable(residual):
            raise ValueError(f"problem {self.name!r}: residual must be a function (d, p) -> array")
        self.geometry, self.residual = geometry, residual
        self.parameters = {k: (v if isinstance(v, Parameter) else known(v)) for k, v in (parameters or {}).items()}
        self.exact, self.transform, self.report, self.description = exact, transform, report, description
        if residual_weight is not None and not callable(residual_weight):
            raise ValueError(f"problem {self.name!r}: residual_weight must be a function coords -> (n,)")
        self.residual_weight = residual_weight
        self._reference = reference
        self.time = time if time is not None else ("t" if "t" in self.inputs else None)
        if self.time is not None and self.time not in self.inputs:
            raise ValueError(f"problem {self.name!r}: time={self.time!r} is not an input; inputs are {self.inputs}")
        self.periodic = dict(periodic or {})
        bad = set(self.periodic) - set(self.inputs)
        if bad:
            raise ValueError(f"problem {self.name!r}: periodic names {sorted(bad)} are not inputs {self.inputs}")
        self.metric_outputs = tuple(metric_outputs or self.outputs)
        bad = set(self.metric_outputs) - set(self.outputs)
        if bad:
            raise ValueError(f"problem {self.name!r}: metric_outputs {sorted(bad)} are not outputs {self.outputs}")
        self.conditions = tuple(conditions)
        names = [c.name for c in self.conditions]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"problem {self.name!r}: condition names must be unique; repeated: {sorted(dup)}")
        for n in names:
            if n == "pde" or n.startswith("pde_"):
                raise ValueError(f"problem {self.name!r}: condition name {n!r} is reserved for the residual")
        for c in self.conditions:
            c.bind(self)
        # Probe the residual's structure once (on zeros) so a wrong shape fails here, with the names.
        self.residual_names = self._probe_residual()

    def __repr__(self) -> str:
        return (f"Problem({self.name!r}, inputs={self.inputs}, outputs={self.outputs}, "
                f"conditions={[c.name for c in self.conditions]}, unknowns={list(self.unknowns)})")

    # -- parameters --
    @property
    def unknowns(self) -> dict[str, Parameter]:
        return {k: p for k, p in self.parameters.items() if p.unknown}

    def parameter_values(self, raw: Mapping[str, jax.Array] | None = None) -> dict:
        """{name: value}: constants for known parameters, transformed raw values for unknown ones."""
        raw = raw or {}
        out = {}
        for k, p in self.parameters.items():
            out[k] = p.apply(raw[k]) if (p.unknown and k in raw) else p.value
        return out

    # -- reference --
    @property
    def reference(self) -> Reference | None:
        if callable(self._reference) and not isinstance(self._reference, Reference):
            self._reference = self._reference()
        return self._reference

    # -- residual --
    def residuals(self, f: Callable, x: jax.Array, params: Mapping) -> dict[str, jax.Array]:
        """{term name: (n,) residual} at points x (n, d_in) for the network f: (n, d_in) -> (n, n_out).

        The derivative orders the residual read when probed are computed first, longest first: one
        chain per highest order instead of one per key in the order the residual reads them (Burgers
        reads u_t, u, u_x, u_xx: 3 chains, the u_x one duplicating part of the u_xx one)."""
        fields = Fields(f, x, self.inputs, self.outputs).prefetch(getattr(self, "_orders", ()))
        out = self.residual(fields, params)
        self._orders = tuple(sorted(set(getattr(self, "_orders", ())) | fields.used))
        return self._normalise(out, x.shape[0])

    def _normalise(self, out, n: int) -> dict[str, jax.Array]:
        if isinstance(out, Mapping):
            items = [(f"pde_{k}", v) for k, v in out.items()]
        elif isinstance(out, (tuple, list)):
            items = [(f"#{i}", v) for i, v in enumerate(out)]
        else:
            items = [("pde", out)]
        checked = []
        for key, v in items:
            shape = jnp.shape(v)
            if shape not in ((n,), (n, 1)):
                which = "" if key == "pde" else f" (equation {key.lstrip('#')})"
                raise ValueError(
                    f"problem {self.name!r}: the residual{which} has shape {shape} at {n} points; each equation "
                    f"must give shape ({n},) (one value per point). Return a tuple or dict for systems.")
            checked.append((key, jnp.reshape(v, (n,))))
        if isinstance(out, (tuple, list)):
            return {"pde": jnp.stack([v for _, v in checked], axis=1)}  # (n, n_eq)
        return dict(checked)

    def _probe_residual(self) -> tuple[str, ...]:
        d = len(self.inputs)
        x = jnp.zeros((3, d))
        lo, hi = self.geometry.bbox
        x = x + jnp.asarray(0.5 * (lo + hi), x.dtype)

        def f(y):  # smooth, so every derivative key is defined
            return jnp.tanh(y @ jnp.ones((d, len(self.outputs)), y.dtype) * 0.1 + 0.1)

        params = self.parameter_values()
        try:
            shapes = jax.eval_shape(lambda y: self.residuals(f, y, params), x)
        except (KeyError, TypeError) as err:
            raise ValueError(f"problem {self.name!r}: the residual function failed on a probe: {err}") from err
        return tuple(shapes)

    def condition(self, name: str):
        for c in self.conditions:
            if c.name == name:
                return c
        raise ValueError(f"problem {self.name!r} has no condition {name!r}; "
                         f"conditions: {[c.name for c in self.conditions]}")
