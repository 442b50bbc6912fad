"""Constructive solid geometry: Union (a | b), Difference (a - b), Intersection (a & b).

The boundary of the result is made of the operands' parts, each restricted to where it is really
boundary. Parts keep their names, except that a name used more than once gets suffixes "_1", "_2",
... in operand order (two disks give "circle_1", "circle_2"; a third disk joined to their union makes
"circle_3"). The result also accepts "boundary" (all parts), like every domain. A part that does not
reach the result's boundary keeps its name with measure zero; sampling it alone raises ValueError.

Restriction rules (int = open interior, on = within tol of the operand's boundary), for a point on a
part of A (or of B). Where both boundaries coincide, the normals decide, so shared faces are handled:
  Union         A-part: not int B, and not on dB with opposite normal;   B-part: outside A.
  Difference    A-part: not int B, and not on dB with the same normal;    B-part: int A (normal flipped).
  Intersection  A-part: int B, or on dB with the same normal;              B-part: int A.
Sampling filters the operands' part samples (rejection), so Sobol/LHS lose some of their structure.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from pinngen.pinn.geometry import _unit
from pinngen.pinn.geometry.base import Domain

# Cosine beyond which two normals at a coincident boundary point count as the same / opposite.
_ALIGNED = 0.5
# Candidates used to estimate how much of an operand part survives the restriction (fixed seed).
_MEASURE_SAMPLES = 4096


class _CSG(Domain):
    _symbol = "?"

    def __init__(self, a: Domain, b: Domain):
        for name, d in (("a", a), ("b", b)):
            if not isinstance(d, Domain):
                raise ValueError(f"{name} must be a Domain; got {type(d).__name__}")
        if a.dim != b.dim:
            raise ValueError(f"operands must have the same dim; got a.dim={a.dim}, b.dim={b.dim}")
        self.a, self.b, self.dim = a, b, a.dim
        self.tol = max(a.tol, b.tol)
        self.bbox = self._make_bbox()
        sources = [(0, p) for p in a.boundary_parts] + [(1, p) for p in b.boundary_parts]
        stems = [re.sub(r"_\d+$", "", p) for _, p in sources]  # nested results renumber together
        totals, seen = Counter(stems), Counter()
        names = []
        for (_, p), stem in zip(sources, stems, strict=True):
            seen[stem] += 1
            names.append(p if totals[stem] == 1 else f"{stem}_{seen[stem]}")
        self.boundary_parts = tuple(names)
        self._source = dict(zip(names, sources, strict=True))
        self._measures: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"({self.a!r} {self._symbol} {self.b!r})"

    def _make_bbox(self):
        return self.a.bbox

    def _operand(self, name: str) -> tuple[Domain, Domain, int, str]:
        """(operand holding the part, the other operand, its index, the operand's part name)."""
        i, p = self._source[name]
        return ((self.a, self.b) if i == 0 else (self.b, self.a)) + (i, p)

    def _keep(self, x: np.ndarray, normal: np.ndarray, i: int, other: Domain) -> np.ndarray:
        raise NotImplementedError

    def _flip(self, i: int) -> float:
        return 1.0

    def _on_part(self, x, name):
        own, other, i, p = self._operand(name)
        on = own._on_part(x, p)
        out = np.zeros(len(x), dtype=bool)
        if on.any():
            xs = x[on]
            out[on] = self._keep(xs, own._part_normal(xs, p), i, other)
        return out

    def _part_normal(self, x, name):
        own, _, i, p = self._operand(name)
        return self._flip(i) * own._part_normal(x, p)

    def _accept(self, name: str):
        own, other, i, p = self._operand(name)
        return lambda xs: self._keep(xs, own._part_normal(xs, p), i, other)

    def _part_measure(self, name):
        if name not in self._measures:
            own, _, _, p = self._operand(name)
            full = own._part_measure(p)
            if full > 0:
                xs = own._sample_part(p, _MEASURE_SAMPLES, "sobol", np.random.default_rng(0))
                full *= float(self._accept(name)(xs).mean())
            self._measures[name] = full
        return self._measures[name]

    def _sample_part(self, name, n, method, rng):
        own, _, _, p = self._operand(name)
        what, accept = f"part {name!r} of {self!r}", self._accept(name)
        if method == "grid":
            return _unit.fill_grid(n, lambda m: own._sample_part(p, m, "grid", None), accept, what)
        return _unit.fill(n, lambda k: own._sample_part(p, k, method, rng), accept, what)


def _interior(d: Domain, x: np.ndarray) -> np.ndarray:
    return d._inside(x) & ~d._on_any(x)


def _coincident(d: Domain, x: np.ndarray, normal: np.ndarray, sign: float) -> np.ndarray:
    """On d's boundary with d's normal aligned (sign=+1) or opposed (sign=-1) to `normal`."""
    on = d._on_any(x)
    cos = np.sum(d.boundary_normal(x, part=d.boundary_parts) * normal, axis=1)
    return on & (sign * cos > _ALIGNED)


class Union(_CSG):
    """Points in a or b (`a | b`)."""

    _symbol = "|"

    def _make_bbox(self):
        return (np.minimum(self.a.bbox[0], self.b.bbox[0]), np.maximum(self.a.bbox[1], self.b.bbox[1]))

    def _inside(self, x):
        return self.a._inside(x) | self.b._inside(x)

    def _keep(self, x, normal, i, other):
        if i == 0:
            return ~_interior(other, x) & ~_coincident(other, x, normal, -1.0)
        return ~other._inside(x)


class Difference(_CSG):
    """Points in a and not in the interior of b (`a - b`); b's parts get flipped normals."""

    _symbol = "-"

    def _inside(self, x):
        return self.a._inside(x) & ~_interior(self.b, x)

    def _flip(self, i):
        return -1.0 if i == 1 else 1.0

    def _keep(self, x, normal, i, other):
        if i == 0:
            return ~_interior(other, x) & ~_coincident(other, x, normal, 1.0)
        return _interior(other, x)


class Intersection(_CSG):
    """Points in both a and b (`a & b`)."""

    _symbol = "&"

    def _make_bbox(self):
        lo = np.maximum(self.a.bbox[0], self.b.bbox[0])
        hi = np.minimum(self.a.bbox[1], self.b.bbox[1])
        if np.any(hi < lo):
            raise ValueError(f"the operands' bounding boxes do not overlap: {self.a!r} and {self.b!r}")
        return lo, hi

    def _inside(self, x):
        return self.a._inside(x) & self.b._inside(x)

    def _keep(self, x, normal, i, other):
        if i == 0:
            return _interior(other, x) | _coincident(other, x, normal, 1.0)
        return _interior(other, x)
