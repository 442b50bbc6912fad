"""Primitive shapes: axis-aligned boxes (Interval, Rectangle, Box, TimeDomain) and the Disk."""

from __future__ import annotations

import numpy as np

from pinngen.pinn.geometry.base import Domain


def _check_tol(tol: float | None, default: float) -> float:
    if tol is None:
        return default
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol={tol!r} must be a finite number >= 0")
    return float(tol)


def _vector(value, dim: int, name: str) -> np.ndarray:
    v = np.asarray(value, dtype=np.float64).reshape(-1)
    if v.shape != (dim,) or not np.all(np.isfinite(v)):
        raise ValueError(f"{name}={value!r} must be {dim} finite number(s)")
    return v


class _Hyperbox(Domain):
    """[lo_0, hi_0] x ... x [lo_{d-1}, hi_{d-1}]; one named part per face, faces[axis] = (low, high)."""

    _faces: tuple[tuple[str, str], ...] = ()

    def __init__(self, lo, hi, *, tol: float | None = None):
        self.dim = len(self._faces)
        lo, hi = _vector(lo, self.dim, "lo"), _vector(hi, self.dim, "hi")
        if np.any(hi <= lo):
            raise ValueError(f"hi={hi.tolist()} must exceed lo={lo.tolist()} in every coordinate")
        self.lo, self.hi = lo, hi
        self.bbox = (lo.copy(), hi.copy())
        self.boundary_parts = tuple(name for pair in self._faces for name in pair)
        self.tol = _check_tol(tol, self._default_tol())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lo={self.lo.tolist()}, hi={self.hi.tolist()})"

    @property
    def volume(self) -> float:
        return float(np.prod(self.hi - self.lo))

    def _face(self, name: str) -> tuple[int, int]:
        """(axis, side) with side 0 for the low face, 1 for the high face."""
        i = self.boundary_parts.index(name)
        return i // 2, i % 2

    def _inside(self, x):
        return np.all((x >= self.lo - self.tol) & (x <= self.hi + self.tol), axis=1)

    def _on_part(self, x, name):
        axis, side = self._face(name)
        plane = (self.lo, self.hi)[side][axis]
        return (np.abs(x[:, axis] - plane) <= self.tol) & self._inside(x)

    def _part_normal(self, x, name):
        axis, side = self._face(name)
        normal = np.zeros((len(x), self.dim))
        normal[:, axis] = 1.0 if side else -1.0
        return normal

    def _others(self, axis: int) -> np.ndarray:
        return np.array([a for a in range(self.dim) if a != axis], dtype=int)

    def _part_measure(self, name):
        axis, _ = self._face(name)
        return float(np.prod((self.hi - self.lo)[self._others(axis)]))  # 1.0 for an interval endpoint

    def _part_unit_dim(self, name):
        return self.dim - 1

    def _part_sides(self, name):
        axis, _ = self._face(name)
        return (self.hi - self.lo)[self._others(axis)]

    def _part_from_unit(self, name, u):
        axis, side = self._face(name)
        x = np.empty((len(u), self.dim))
        others = self._others(axis)
        x[:, others] = self.lo[others] + u * (self.hi - self.lo)[others]
        x[:, axis] = (self.lo, self.hi)[side][axis]
        return x

    def _has_interior_map(self):
        return True

    def _from_unit(self, u):
        return self.lo + u * (self.hi - self.lo)


class Interval(_Hyperbox):
    """[lo, hi] in 1-D. Parts: "left" (x = lo, normal -1), "right" (x = hi, normal +1)."""

    _faces = (("left", "right"),)

    def __init__(self, lo: float, hi: float, *, tol: float | None = None):
        super().__init__([lo], [hi], tol=tol)


class TimeDomain(Interval):
    """[t0, t1]. Parts: "initial" (t = t0), "final" (t = t1). Combine with space via
    `SpaceTime(space, time)` or `space * time`."""

    _faces = (("initial", "final"),)

    def __init__(self, t0: float, t1: float, *, tol: float | None = None):
        super().__init__(t0, t1, tol=tol)
        self.t0, self.t1 = float(self.lo[0]), float(self.hi[0])

    def __repr__(self) -> str:
        return f"TimeDomain({self.t0}, {self.t1})"


class Rectangle(_Hyperbox):
    """[x0, x1] x [y0, y1]. Parts: "left" (x = x0), "right" (x = x1), "bottom" (y = y0), "top" (y = y1)."""

    _faces = (("left", "right"), ("bottom", "top"))


class Box(_Hyperbox):
    """Axis-aligned box in 3-D. Parts: "xmin", "xmax", "ymin", "ymax", "zmin", "zmax"."""

    _faces = (("xmin", "xmax"), ("ymin", "ymax"), ("zmin", "zmax"))


class Disk(Domain):
    """Closed disk |x - centre| <= radius in 2-D. One part, "circle"."""

    def __init__(self, centre, radius: float, *, tol: float | None = None):
        self.dim = 2
        self.centre = _vector(centre, 2, "centre")
        if not np.isfinite(radius) or radius <= 0:
            raise ValueError(f"radius={radius!r} must be a finite number > 0")
        self.radius = float(radius)
        self.bbox = (self.centre - self.radius, self.centre + self.radius)
        self.boundary_parts = ("circle",)
        self.tol = _check_tol(tol, self._default_tol())

    def __repr__(self) -> str:
        return f"Disk(centre={self.centre.tolist()}, radius={self.radius})"

    @property
    def volume(self) -> float:
        return float(np.pi * self.radius**2)

    def _r(self, x):
        return np.linalg.norm(x - self.centre, axis=1)

    def _inside(self, x):
        return self._r(x) <= self.radius + self.tol

    def _on_part(self, x, name):
        return np.abs(self._r(x) - self.radius) <= self.tol

    def _part_normal(self, x, name):
        d = x - self.centre
        return d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-300)

    def _part_measure(self, name):
        return 2 * np.pi * self.radius

    def _part_unit_dim(self, name):
        return 1

    def _part_sides(self, name):
        return (2 * np.pi * self.radius,)

    def _part_from_unit(self, name, u):
        theta = 2 * np.pi * u[:, 0]
        return self.centre + self.radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)

    def _has_interior_map(self):
        return True

    def _from_unit(self, u):
        # r = R sqrt(u0) makes the map area-preserving, so uniform/Sobol/LHS structure carries over.
        r = self.radius * np.sqrt(u[:, 0])
        theta = 2 * np.pi * u[:, 1]
        return self.centre + r[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
