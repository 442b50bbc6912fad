"""Space-time cylinders: points (x_0, ..., x_{d-1}, t)."""

from __future__ import annotations

import math

import numpy as np

from pinngen.pinn.geometry import _unit
from pinngen.pinn.geometry.base import Domain
from pinngen.pinn.geometry.shapes import TimeDomain


class SpaceTime(Domain):
    """space x [t0, t1], also written `space * TimeDomain(t0, t1)`; dim = space.dim + 1, time last.

    Parts: each spatial part of `space` (same name) times [t0, t1], plus "initial" (t = t0) and
    "final" (t = t1). `default_parts` -- what part=None and part="boundary" mean -- are the SPATIAL
    parts only, the boundary where boundary conditions live; "spatial" is an alias for the same.
    Normals: (n_space, 0) on spatial parts, -e_t on "initial", +e_t on "final".
    """

    def __init__(self, space: Domain, time: TimeDomain):
        if not isinstance(space, Domain) or isinstance(space, SpaceTime):
            raise ValueError(f"space must be a spatial Domain; got {type(space).__name__}")
        if not isinstance(time, TimeDomain):
            raise ValueError(f"time must be a TimeDomain; got {type(time).__name__}")
        clash = {"initial", "final", "spatial"} & set(space.boundary_parts)
        if clash:
            raise ValueError(f"space has part names reserved for time: {sorted(clash)}")
        self.space, self.time = space, time
        self.t0, self.t1 = time.t0, time.t1
        self.dim = space.dim + 1
        self.bbox = (np.append(space.bbox[0], self.t0), np.append(space.bbox[1], self.t1))
        self.boundary_parts = (*space.boundary_parts, "initial", "final")
        self.tol = max(space.tol, time.tol)

    def __repr__(self) -> str:
        return f"SpaceTime({self.space!r}, {self.time!r})"

    @property
    def default_parts(self):
        return self.space.boundary_parts

    @property
    def part_aliases(self):
        return {"boundary": self.default_parts, "spatial": self.default_parts}

    @property
    def volume(self) -> float:
        return self.space.volume * (self.t1 - self.t0)

    def _in_time(self, t):
        return (t >= self.t0 - self.time.tol) & (t <= self.t1 + self.time.tol)

    def _inside(self, x):
        return self.space._inside(x[:, :-1]) & self._in_time(x[:, -1])

    def _on_part(self, x, name):
        xs, t = x[:, :-1], x[:, -1]
        if name in ("initial", "final"):
            t_face = self.t0 if name == "initial" else self.t1
            return (np.abs(t - t_face) <= self.time.tol) & self.space._inside(xs)
        return self.space._on_part(xs, name) & self._in_time(t)

    def _part_normal(self, x, name):
        out = np.zeros_like(x)
        if name in ("initial", "final"):
            out[:, -1] = -1.0 if name == "initial" else 1.0
        else:
            out[:, :-1] = self.space._part_normal(x[:, :-1], name)
        return out

    def _part_measure(self, name):
        if name in ("initial", "final"):
            return self.space.volume
        return self.space._part_measure(name) * (self.t1 - self.t0)

    def _has_interior_map(self):
        return self.space._has_interior_map()

    def _from_unit(self, u):
        t = self.t0 + u[:, -1] * (self.t1 - self.t0)
        return np.column_stack([self.space._from_unit(u[:, :-1]), t])

    def _sample_part(self, name, n, method, rng):
        if name in ("initial", "final"):
            xs = self.space.sample_interior(n, method=method, rng=rng)
            return np.column_stack([xs, np.full(n, self.t0 if name == "initial" else self.t1)])
        span = self.t1 - self.t0
        m = self.space._part_unit_dim(name)
        if m is not None:  # joint map, so Sobol/LHS/grid structure spans space and time together
            sides = self.space._part_sides(name)
            sides = None if sides is None else (*sides, span)
            u = _unit.unit_sample(n, m + 1, method, rng, sides)
            return np.column_stack([self.space._part_from_unit(name, u[:, :m]), self.t0 + span * u[:, m]])
        if method == "grid":  # product of a spatial grid and a time grid, thinned to n
            n_t = max(1, round(n ** (1.0 / self.dim)))
            xs = self.space._sample_part(name, math.ceil(n / n_t), "grid", None)
            ts = self.t0 + span * (np.arange(n_t) + 0.5) / n_t
            grid = np.column_stack([np.repeat(xs, n_t, axis=0), np.tile(ts, len(xs))])
            return _unit.thin(grid, n)
        xs = self.space._sample_part(name, n, method, rng)
        return np.column_stack([xs, self.t0 + span * _unit.unit_sample(n, 1, method, rng)[:, 0]])
