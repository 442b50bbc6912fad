"""Simple polygons in 2-D, either orientation."""

from __future__ import annotations

import numpy as np

from pinngen.pinn.geometry.base import Domain
from pinngen.pinn.geometry.shapes import _check_tol


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _segments_touch(p, q, r, s, eps: float) -> bool:
    """Whether closed segments pq and rs intersect (collinear overlaps included)."""
    d1, d2 = _cross(q - p, r - p), _cross(q - p, s - p)
    d3, d4 = _cross(s - r, p - r), _cross(s - r, q - r)
    if ((d1 > eps and d2 < -eps) or (d1 < -eps and d2 > eps)) and (
        (d3 > eps and d4 < -eps) or (d3 < -eps and d4 > eps)
    ):
        return True

    def on_seg(a, b, c, d):  # c on segment ab, given cross d ~ 0
        return abs(d) <= eps and min(a[0], b[0]) - eps <= c[0] <= max(a[0], b[0]) + eps and (
            min(a[1], b[1]) - eps <= c[1] <= max(a[1], b[1]) + eps
        )

    return on_seg(p, q, r, d1) or on_seg(p, q, s, d2) or on_seg(r, s, p, d3) or on_seg(r, s, q, d4)


class Polygon(Domain):
    """Closed simple polygon with vertices (K, 2), K >= 3, in either orientation (not repeated at the end).

    Parts: "edge0" ... "edge{K-1}", edge i running from vertex i to vertex (i + 1) % K.
    Inside test: even-odd crossing rule, with points within tol of an edge counted as inside.
    """

    def __init__(self, vertices, *, tol: float | None = None):
        v = np.asarray(vertices, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != 2 or len(v) < 3 or not np.all(np.isfinite(v)):
            raise ValueError(f"vertices must be a finite (K, 2) array with K >= 3; got shape {v.shape}")
        self.dim = 2
        self.vertices = v
        self.bbox = (v.min(axis=0), v.max(axis=0))
        self.tol = _check_tol(tol, self._default_tol())
        self._a, self._b = v, np.roll(v, -1, axis=0)  # edge i: a[i] -> b[i]
        self._len = np.linalg.norm(self._b - self._a, axis=1)
        if np.any(self._len <= self.tol):
            raise ValueError(f"vertices: edge {int(np.argmin(self._len))} has zero length")
        self._check_simple()
        self.signed_area = 0.5 * float(np.sum(_cross(self._a, self._b)))
        if abs(self.signed_area) <= self.tol**2:
            raise ValueError("vertices: the polygon has zero area")
        self.boundary_parts = tuple(f"edge{i}" for i in range(len(v)))
        d = self._b - self._a
        # Outward normal of a counter-clockwise edge (dx, dy) is (dy, -dx); clockwise flips it.
        self._normals = np.sign(self.signed_area) * np.stack([d[:, 1], -d[:, 0]], axis=1) / self._len[:, None]

    def __repr__(self) -> str:
        return f"Polygon({len(self.vertices)} vertices)"

    @property
    def volume(self) -> float:
        return abs(self.signed_area)

    def _check_simple(self) -> None:
        k, a, b = len(self._a), self._a, self._b
        eps = self.tol * float(np.linalg.norm(self.bbox[1] - self.bbox[0]))
        for i in range(k):
            for j in range(i + 1, k):
                adjacent = j == i + 1 or (i == 0 and j == k - 1)
                if adjacent:
                    # Neighbours share a vertex; they must not fold back onto each other.
                    di, dj = b[i] - a[i], b[j] - a[j]
                    if abs(_cross(di, dj)) <= eps and np.dot(di, dj) < 0:
                        raise ValueError(f"vertices: edges {i} and {j} fold back onto each other")
                elif _segments_touch(a[i], b[i], a[j], b[j], eps):
                    raise ValueError(f"vertices: edges {i} and {j} intersect; the polygon must be simple")

    def _edge_distance(self, x: np.ndarray, i: int) -> np.ndarray:
        a, d = self._a[i], self._b[i] - self._a[i]
        s = np.clip((x - a) @ d / (self._len[i] ** 2), 0.0, 1.0)
        return np.linalg.norm(x - (a + s[:, None] * d), axis=1)

    def _inside(self, x):
        px, py = x[:, :1], x[:, 1:]  # (n, 1) against edges (K,)
        ax, ay, bx, by = self._a[:, 0], self._a[:, 1], self._b[:, 0], self._b[:, 1]
        straddle = (ay > py) != (by > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = ax + (py - ay) * (bx - ax) / (by - ay)
        crossings = np.sum(straddle & (px < x_cross), axis=1)
        near = np.zeros(len(x), dtype=bool)
        for i in range(len(self._a)):
            near |= self._edge_distance(x, i) <= self.tol
        return (crossings % 2 == 1) | near

    def _edge(self, name: str) -> int:
        return self.boundary_parts.index(name)

    def _on_part(self, x, name):
        return self._edge_distance(x, self._edge(name)) <= self.tol

    def _part_normal(self, x, name):
        return np.broadcast_to(self._normals[self._edge(name)], x.shape).copy()

    def _part_measure(self, name):
        return float(self._len[self._edge(name)])

    def _part_unit_dim(self, name):
        return 1

    def _part_sides(self, name):
        return (self._part_measure(name),)

    def _part_from_unit(self, name, u):
        i = self._edge(name)
        return self._a[i] + u[:, :1] * (self._b[i] - self._a[i])
