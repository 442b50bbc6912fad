"""Geometry for PINNs: domains, their named boundary parts, normals and point sampling (host side, NumPy).

Points are float64 arrays of shape (n, dim). Every domain offers `dim`, `bbox`, `volume`,
`boundary_parts`, `inside`, `on_boundary`, `boundary_normal`, `sample_interior`,
`sample_boundary`, `uniform_grid` and `check_inside`; see `Domain`. Sampling methods: "uniform",
"sobol", "lhs" (scrambled, `scipy.stats.qmc`) and "grid".

Vocabulary after DeepXDE (Lu et al. 2021, SIAM Review 63(1)), implemented independently.
"""

from pinngen.pinn.geometry._unit import METHODS
from pinngen.pinn.geometry.base import Domain
from pinngen.pinn.geometry.csg import Difference, Intersection, Union
from pinngen.pinn.geometry.polygon import Polygon
from pinngen.pinn.geometry.shapes import Box, Disk, Interval, Rectangle, TimeDomain
from pinngen.pinn.geometry.spacetime import SpaceTime

__all__ = [
    "METHODS",
    "Box",
    "Difference",
    "Disk",
    "Domain",
    "Intersection",
    "Interval",
    "Polygon",
    "Rectangle",
    "SpaceTime",
    "TimeDomain",
    "Union",
]
