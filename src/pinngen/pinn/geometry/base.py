"""The `Domain` contract shared by every shape, product and set operation.

Points are host-side float64 NumPy arrays of shape (n, dim). A boundary is a union of NAMED parts
("left", "circle", "edge3", "initial", ...); conditions refer to parts by name, and sampling over
several parts is proportional to their measure (length, area; an endpoint of an interval counts 1).

Tolerance: a point within `tol` of the boundary counts as on it, and as inside (closed domains).
The default is 1e-6 times the bounding-box diagonal, loose enough for float32 user data.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np

from pinngen.pinn.geometry import _unit

PartSpec = str | Sequence[str] | None


class Domain:
    """Base class. Subclasses set `dim`, `bbox`, `boundary_parts`, `tol` and implement the hooks
    `_inside`, `_on_part`, `_part_normal`, `_part_measure` and either the unit-cube part map
    (`_part_unit_dim`, `_part_from_unit`, `_part_sides`) or `_sample_part`."""

    dim: int
    bbox: tuple[np.ndarray, np.ndarray]  # (lo, hi), each (dim,)
    boundary_parts: tuple[str, ...]
    tol: float

    # ---- public API -------------------------------------------------------------------------

    @property
    def default_parts(self) -> tuple[str, ...]:
        """Parts meant by part=None or part="boundary" (all parts, except SpaceTime: spatial only)."""
        return self.boundary_parts

    @property
    def part_aliases(self) -> dict[str, tuple[str, ...]]:
        """Group names accepted wherever a part name is."""
        return {"boundary": self.default_parts}

    @cached_property
    def volume(self) -> float:
        """Length / area / volume. Generic estimate: fraction of 2**14 Sobol points of the bbox inside."""
        lo, hi = self.bbox
        u = _unit.UnitStream(self.dim, "sobol", np.random.default_rng(0)).draw(2**14)
        return float(np.prod(hi - lo) * self._inside(lo + u * (hi - lo)).mean())

    def inside(self, x) -> np.ndarray:
        """(n,) bool: in the closed domain (boundary included, within tol)."""
        return self._inside(self._points(x))

    def on_boundary(self, x, part: PartSpec = None) -> np.ndarray:
        """(n,) bool: on any of the selected parts (None: `default_parts`; a name, alias or sequence)."""
        x = self._points(x)
        out = np.zeros(len(x), dtype=bool)
        for p in self.resolve_parts(part):
            out |= self._on_part(x, p)
        return out

    def boundary_normal(self, x, part: PartSpec = None) -> np.ndarray:
        """(n, dim) outward unit normals. Where several selected parts meet (corners) the normalised
        sum of their normals; zero rows for points on none of the selected parts."""
        x = self._points(x)
        total = np.zeros_like(x)
        for p in self.resolve_parts(part):
            on = self._on_part(x, p)
            if on.any():
                total[on] += self._part_normal(x[on], p)
        norm = np.linalg.norm(total, axis=1, keepdims=True)
        return np.divide(total, norm, out=np.zeros_like(total), where=norm > 0)

    def sample_interior(self, n: int, *, method: str = "uniform",
                        rng: np.random.Generator | int | None = None) -> np.ndarray:
        """(n, dim) points of the closed domain. method: "uniform" | "sobol" | "lhs" (scrambled,
        `scipy.stats.qmc`) | "grid" (cell-centred lattice thinned evenly to exactly n; rng unused).
        Shapes without a measure-preserving map from the unit cube use rejection from the bbox."""
        n = _unit.check_count(n)
        method = _unit.check_method(method)
        rng = _unit.resolve_rng(rng, method)
        lo, hi = self.bbox
        if method == "grid":
            return _unit.fill_grid(n, lambda m: _unit.lattice(m, lo, hi), self._inside, f"{self!r}")
        u = _unit.UnitStream(self.dim, method, rng)
        if self._has_interior_map():
            return self._from_unit(u.draw(n))
        return _unit.fill(n, lambda k: lo + u.draw(k) * (hi - lo), self._inside, f"{self!r}")

    def sample_boundary(self, n: int, *, part: PartSpec = None, method: str = "uniform",
                        rng: np.random.Generator | int | None = None) -> np.ndarray:
        """(n, dim) points on the selected parts, split over them in proportion to their measure
        (deterministic largest-remainder counts) and returned grouped part by part."""
        n = _unit.check_count(n)
        method = _unit.check_method(method)
        rng = _unit.resolve_rng(rng, method)
        names = self.resolve_parts(part)
        measures = [self._part_measure(p) for p in names]
        if sum(measures) <= 0:
            raise ValueError(f"part={part!r} has zero measure on the boundary of {self!r}")
        counts = _unit.allocate(n, measures)
        pieces = [self._sample_part(p, k, method, rng) for p, k in zip(names, counts, strict=True) if k]
        return np.concatenate(pieces, axis=0)

    def uniform_grid(self, n: int, *, include_boundary: bool = True) -> np.ndarray:
        """(m, dim) regular lattice points inside the domain, m close to n (not exact: a lattice).
        include_boundary=True uses linspace vertices of the bbox (boundary points kept), else cell centres."""
        n = _unit.check_count(n)
        lo, hi = self.bbox
        m = n
        for _ in range(4):  # the inside fraction of the bbox is unknown; two rescales usually suffice
            pts = _unit.lattice(m, lo, hi, vertices=include_boundary)
            pts = pts[self._inside(pts)]
            if len(pts) == 0:
                m *= 4
                continue
            if abs(len(pts) - n) <= 0.1 * n:
                break
            m = max(1, round(m * n / len(pts)))
        return pts

    def check_inside(self, x, name: str = "x") -> np.ndarray:
        """Validate user data: returns x as (n, dim) float64, or raises ValueError naming the
        number of points outside and the first one."""
        x = self._points(x, name)
        bad = ~self._inside(x)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{name}: points outside the domain: {int(bad.sum())} of {len(x)}, "
                f"first at row {i}: {x[i].tolist()} (domain {self!r}, tol={self.tol:.3g})"
            )
        return x

    # ---- operators -------------------------------------------------------------------------------

    def __or__(self, other: Domain) -> Domain:
        from pinngen.pinn.geometry.csg import Union

        return Union(self, other)

    def __sub__(self, other: Domain) -> Domain:
        from pinngen.pinn.geometry.csg import Difference

        return Difference(self, other)

    def __and__(self, other: Domain) -> Domain:
        from pinngen.pinn.geometry.csg import Intersection

        return Intersection(self, other)

    def __mul__(self, other):
        from pinngen.pinn.geometry.shapes import TimeDomain
        from pinngen.pinn.geometry.spacetime import SpaceTime

        if isinstance(other, TimeDomain):
            return SpaceTime(self, other)
        return NotImplemented

    # ---- helpers for subclasses ----------------------------------------------------------------

    def _points(self, x, name: str = "x") -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1 and self.dim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"{name} must have shape (n, {self.dim}) for {self!r}; got {x.shape}")
        return x

    def resolve_parts(self, part: PartSpec) -> tuple[str, ...]:
        """Part names meant by a spec: None (default_parts), a name, an alias, or a sequence of them.
        Raises ValueError listing the valid names for an unknown one."""
        if part is None:
            return self.default_parts
        items = (part,) if isinstance(part, str) else tuple(part)
        names: list[str] = []
        for p in items:
            group = self.part_aliases.get(p, (p,) if p in self.boundary_parts else None)
            if group is None:
                raise ValueError(
                    f"part={p!r} is not a boundary part of {self!r}; valid parts: {self.boundary_parts}, "
                    f"aliases: {tuple(self.part_aliases)}"
                )
            names.extend(q for q in group if q not in names)
        return tuple(names)

    def _default_tol(self) -> float:
        lo, hi = self.bbox
        return 1e-6 * float(np.linalg.norm(hi - lo))

    def _on_any(self, x: np.ndarray) -> np.ndarray:
        """On any part, including those outside `default_parts` (set operations need the whole boundary)."""
        return self.on_boundary(x, part=self.boundary_parts)

    def _has_interior_map(self) -> bool:
        return False

    def _from_unit(self, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _part_unit_dim(self, name: str) -> int | None:
        """Dimension m of a measure-preserving map [0,1]^m -> part, or None when there is none."""
        return None

    def _part_sides(self, name: str) -> Sequence[float] | None:
        return None

    def _sample_part(self, name: str, n: int, method: str, rng) -> np.ndarray:
        m = self._part_unit_dim(name)
        if m is None:
            raise NotImplementedError(f"{type(self).__name__} must implement _sample_part")
        u = _unit.unit_sample(n, m, method, rng, self._part_sides(name))
        return self._part_from_unit(name, u)

    def _inside(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _on_part(self, x: np.ndarray, name: str) -> np.ndarray:
        raise NotImplementedError

    def _part_normal(self, x: np.ndarray, name: str) -> np.ndarray:
        raise NotImplementedError

    def _part_measure(self, name: str) -> float:
        raise NotImplementedError

    def _part_from_unit(self, name: str, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError
