"""Named conditions of a PINN problem; each becomes one named loss term (mean squared violation).

Soft conditions (a loss term each): :class:`Dirichlet`, :class:`Neumann` (outward normals from the
geometry), :class:`Robin`, :class:`Periodic` (pairs of points), :class:`InitialValue`,
:class:`InitialRate` (u_t at t0, for second order in time), :class:`Observations` (data, possibly noisy).
Hard constraints: :class:`OutputTransform` rewrites the network output so a condition holds exactly,
e.g. ``u = u0(x) + t * N(x, t)`` (:func:`hard_initial`) or ``u = (1 - x^2) N`` (:func:`hard_dirichlet`).

Values are given as a number or a function of the coordinates ``{name: (n,) array} -> (n,)`` (or
``(n, k)`` for k components); write them with ``jax.numpy`` so they work on host and in traced code.

Life cycle: ``Problem`` calls ``bind(problem)`` (checks names: an unknown boundary part or component
raises ValueError listing the valid ones); the solver calls ``sample(n, method, rng)`` -> points and
``prepare(points)`` -> a dict of arrays (the condition's part of the batch, fixed shapes); the loss
is ``loss(f, data, params)``, traced inside the jitted step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from pinngen.pinn.geometry import SpaceTime

Value = float | Callable


def _coords(names: Sequence[str], x) -> dict:
    return {name: x[:, i] for i, name in enumerate(names)}


def _evaluate(value: Value, names, x: np.ndarray, k: int) -> np.ndarray:
    """A value spec at host points x (n, d) as (n, k) float64."""
    n = len(x)
    v = np.asarray(value(_coords(names, x)) if callable(value) else value, dtype=np.float64)
    if v.ndim == 0 or v.shape == (k,):
        v = np.broadcast_to(v, (n, k))
    elif v.shape == (n,) and k == 1:
        v = v[:, None]
    if v.shape != (n, k):
        raise ValueError(f"a condition value gave shape {v.shape}; expected a number, ({n},) or ({n}, {k})")
    return np.array(v)


def _mse(a, w=None) -> jax.Array:
    """Mean square of a (n,) or (n, k); with per-point weights w (n,): mean of w * a^2."""
    if w is None:
        return jnp.mean(jnp.square(a))
    sq = jnp.square(a)
    return jnp.mean((w[:, None] if sq.ndim == 2 else w) * sq)


class Condition:
    """Base: a named loss term on a region. ``kind`` picks the collocation count ("boundary",
    "initial" or "data"); ``n`` overrides it for this condition."""

    kind = "boundary"

    def __init__(self, name: str, *, on, component: str | Sequence[str] | None = None, n: int | None = None,
                 weight: Value | None = None):
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"condition name {name!r} must be a non-empty string without '/'")
        self.name, self.on, self.n, self.weight = name, on, n, weight
        self._component = component
        self.problem = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, on={self.on!r}, component={self._component!r})"

    # -- binding and validation --
    def bind(self, problem) -> None:
        self.problem = problem
        comps = self._component if self._component is not None else problem.outputs[:1]
        comps = (comps,) if isinstance(comps, str) else tuple(comps)
        bad = [c for c in comps if c not in problem.outputs]
        if bad:
            raise ValueError(f"condition {self.name!r}: component(s) {bad} are not outputs of problem "
                             f"{problem.name!r}; valid: {problem.outputs}")
        self.components = comps
        self.index = np.array([problem.outputs.index(c) for c in comps])
        if self.on is not None:
            try:
                self.parts = problem.geometry.resolve_parts(self.on)
            except ValueError:
                g = problem.geometry
                raise ValueError(
                    f"condition {self.name!r}: unknown boundary part {self.on!r}; valid names: "
                    f"{g.boundary_parts} (aliases: {tuple(g.part_aliases)})") from None

    # -- host side --
    def sample(self, n: int, method: str, rng) -> np.ndarray:
        return self.problem.geometry.sample_boundary(n, part=self.on, method=method, rng=rng)

    def prepare(self, x: np.ndarray) -> dict:
        return {"x": x}

    def data(self, x: np.ndarray) -> dict:
        """The batch entry at points x: ``prepare(x)``, plus per-point weights ``w`` (n,) when the condition
        has a ``weight`` (e.g. a taper to 0 at a singular corner: the term is then mean(w * err^2))."""
        out = self.prepare(x)
        if self.weight is not None:
            w = _evaluate(self.weight, self.problem.inputs, np.asarray(x), 1)[:, 0]
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(f"condition {self.name!r}: weight must be finite and >= 0 at every point")
            out["w"] = w
        return out

    def _comp(self, u):
        return u[:, self.index]

    def loss(self, f: Callable, data: Mapping, params: Mapping) -> jax.Array:
        raise NotImplementedError


class Dirichlet(Condition):
    """u = value on the boundary part(s) ``on`` (a name, an alias such as "boundary", or several)."""

    def __init__(self, name: str, *, on="boundary", value: Value = 0.0, component=None, n=None, weight=None):
        super().__init__(name, on=on, component=component, n=n, weight=weight)
        self.value = value

    def prepare(self, x):
        return {"x": x, "value": _evaluate(self.value, self.problem.inputs, x, len(self.components))}

    def loss(self, f, data, params):
        return _mse(self._comp(f(data["x"])) - data["value"], data.get("w"))


class Neumann(Condition):
    """du/dn = value on ``on``, n the outward unit normal of the geometry (one jvp along n)."""

    def __init__(self, name: str, *, on="boundary", value: Value = 0.0, component=None, n=None, weight=None):
        super().__init__(name, on=on, component=component, n=n, weight=weight)
        self.value = value

    def prepare(self, x):
        normal = self.problem.geometry.boundary_normal(x, part=self.on)
        return {"x": x, "normal": normal, "value": _evaluate(self.value, self.problem.inputs, x, len(self.components))}

    def loss(self, f, data, params):
        dudn = jax.jvp(f, (data["x"],), (data["normal"],))[1]  # (n, n_out): directional derivative
        return _mse(self._comp(dudn) - data["value"], data.get("w"))


class Robin(Condition):
    """alpha * u + beta * du/dn = value on ``on`` (alpha, beta constants)."""

    def __init__(self, name: str, *, on="boundary", alpha: float = 1.0, beta: float = 1.0, value: Value = 0.0,
                 component=None, n=None, weight=None):
        super().__init__(name, on=on, component=component, n=n, weight=weight)
        self.alpha, self.beta, self.value = float(alpha), float(beta), value

    def prepare(self, x):
        normal = self.problem.geometry.boundary_normal(x, part=self.on)
        return {"x": x, "normal": normal, "value": _evaluate(self.value, self.problem.inputs, x, len(self.components))}

    def loss(self, f, data, params):
        u, dudn = jax.jvp(f, (data["x"],), (data["normal"],))
        return _mse(self.alpha * self._comp(u) + self.beta * self._comp(dudn) - data["value"], data.get("w"))


class Periodic(Condition):
    """u(lo) = u(hi) along input ``dim`` (and its first ``order`` derivatives along ``dim``), on pairs of
    points that differ only in that coordinate. The domain must be a box in ``dim`` (interval x time,
    rectangle)."""

    def __init__(self, name: str, *, dim: str = "x", order: int = 1, component=None, n=None):
        super().__init__(name, on=None, component=component, n=n)
        if order not in (0, 1, 2, 3):
            raise ValueError(f"order={order!r}; choose 0, 1, 2 or 3 (derivatives matched along dim)")
        self.dim, self.order = dim, order

    def bind(self, problem):
        super().bind(problem)
        if self.dim not in problem.inputs:
            raise ValueError(f"condition {self.name!r}: dim={self.dim!r} is not an input of problem "
                             f"{problem.name!r}; valid: {problem.inputs}")
        self.axis = problem.inputs.index(self.dim)
        lo, hi = problem.geometry.bbox
        self.lo, self.hi = float(lo[self.axis]), float(hi[self.axis])

    def sample(self, n, method, rng):
        x = self.problem.geometry.sample_interior(n, method=method, rng=rng)
        x[:, self.axis] = self.lo
        return x

    def prepare(self, x):
        x_hi = np.array(x)
        x_hi[:, self.axis] = self.hi
        self.problem.geometry.check_inside(x, f"condition {self.name!r} (x at {self.dim}={self.lo})")
        self.problem.geometry.check_inside(x_hi, f"condition {self.name!r} (x at {self.dim}={self.hi})")
        return {"x": x, "x_hi": x_hi}

    def loss(self, f, data, params):
        tangent = jnp.zeros_like(data["x"]).at[:, self.axis].set(1.0)
        g, total = f, 0.0
        for k in range(self.order + 1):
            total = total + _mse(self._comp(g(data["x"]) - g(data["x_hi"])))
            if k < self.order:
                g = (lambda h: lambda y: jax.jvp(h, (y,), (tangent[: y.shape[0]],))[1])(g)
        return total


class _Initial(Condition):
    kind = "initial"

    def __init__(self, name, *, component=None, n=None, weight=None):
        super().__init__(name, on="initial", component=component, n=n, weight=weight)

    def bind(self, problem):
        if not isinstance(problem.geometry, SpaceTime):
            raise ValueError(f"condition {self.name!r}: initial conditions need a SpaceTime geometry; "
                             f"problem {problem.name!r} has {problem.geometry!r}")
        super().bind(problem)
        self.axis = problem.inputs.index(problem.time) if problem.time else len(problem.inputs) - 1


class InitialValue(_Initial):
    """u(x, t0) = value(x)."""

    def __init__(self, name: str = "ic", *, value: Value = 0.0, component=None, n=None, weight=None):
        super().__init__(name, component=component, n=n, weight=weight)
        self.value = value

    def prepare(self, x):
        return {"x": x, "value": _evaluate(self.value, self.problem.inputs, x, len(self.components))}

    def loss(self, f, data, params):
        return _mse(self._comp(f(data["x"])) - data["value"], data.get("w"))


class InitialRate(_Initial):
    """u_t(x, t0) = value(x): the second initial condition of equations second order in time."""

    def __init__(self, name: str = "ic_rate", *, value: Value = 0.0, component=None, n=None):
        super().__init__(name, component=component, n=n)
        self.value = value

    def prepare(self, x):
        return {"x": x, "value": _evaluate(self.value, self.problem.inputs, x, len(self.components))}

    def loss(self, f, data, params):
        x = data["x"]
        tangent = jnp.zeros_like(x).at[:, self.axis].set(1.0)
        return _mse(self._comp(jax.jvp(f, (x,), (tangent,))[1]) - data["value"], data.get("w"))


class Observations(Condition):
    """Pointwise data: u(points) = values, e.g. measurements (noise is in the values; see :func:`add_noise`).

    points (m, d_in) must lie in the domain (checked with the geometry); values (m,) or (m, k)."""

    kind = "data"

    def __init__(self, name: str = "data", *, points, values, component=None):
        super().__init__(name, on=None, component=component)
        self.points = np.asarray(points, dtype=np.float64)
        self.values = np.asarray(values, dtype=np.float64)

    def bind(self, problem):
        super().bind(problem)
        self.points = problem.geometry.check_inside(self.points, f"condition {self.name!r} points")
        k = len(self.components)
        if self.values.size != len(self.points) * k:
            raise ValueError(f"condition {self.name!r}: values have shape {self.values.shape}; expected "
                             f"({len(self.points)},) or ({len(self.points)}, {k}) for components {self.components}")
        self.values = self.values.reshape(len(self.points), k)
        self.n = len(self.points)

    def sample(self, n, method, rng):
        return self.points

    def prepare(self, x):
        return {"x": self.points, "value": self.values}

    def loss(self, f, data, params):
        return _mse(self._comp(f(data["x"])) - data["value"], data.get("w"))


def add_noise(values, level: float, *, seed: int = 0) -> np.ndarray:
    """values + level * std(values) * N(0, 1): "noise of level*100 %" as in Raissi et al. (2019)."""
    v = np.asarray(values, dtype=np.float64)
    if level < 0:
        raise ValueError(f"noise level={level!r} must be >= 0 (a fraction: 0.01 is 1 %)")
    if level == 0:
        return v.copy()
    rng = np.random.default_rng(seed)
    return v + level * np.std(v) * rng.standard_normal(v.shape)


# ---- hard constraints ---------------------------------------------------------------------------------


class OutputTransform:
    """Hard constraint: the model returns ``fn(coords, raw)`` instead of the raw network output.

    fn: ``({input: (n,)}, raw (n, n_out)) -> (n, n_out)``, written with jax.numpy. ``enforces`` names
    what holds exactly (for reports). Compose with ``a.then(b)`` (b applied to a's output).
    """

    def __init__(self, fn: Callable, *, enforces: Sequence[str] = ()):
        self.fn, self.enforces = fn, tuple(enforces)

    def __call__(self, coords: Mapping, raw):
        return self.fn(coords, raw)

    def then(self, other: OutputTransform) -> OutputTransform:
        return OutputTransform(lambda c, raw: other.fn(c, self.fn(c, raw)), enforces=self.enforces + other.enforces)


def hard_initial(u0: Callable, *, time: str = "t", t0: float = 0.0) -> OutputTransform:
    """u = u0(x) + (t - t0) * N: the initial condition u(x, t0) = u0(x) holds exactly.
    u0: coords -> (n,) or (n, n_out)."""

    def fn(c, raw):
        base = jnp.asarray(u0(c))
        base = base[:, None] if base.ndim == 1 else base
        return base + (c[time] - t0)[:, None] * raw

    return OutputTransform(fn, enforces=("initial value",))


def hard_dirichlet(distance: Callable, value: Callable | float = 0.0) -> OutputTransform:
    """u = g(x) + D(x) * N with D = 0 exactly on the boundary (e.g. D = (1 - x^2) on [-1, 1]), so
    u = g there. distance, value: coords -> (n,)."""

    def fn(c, raw):
        g = value(c) if callable(value) else value
        g = jnp.asarray(g)
        g = g[:, None] if g.ndim == 1 else g
        return g + distance(c)[:, None] * raw

    return OutputTransform(fn, enforces=("dirichlet",))
