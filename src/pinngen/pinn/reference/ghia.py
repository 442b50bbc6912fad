"""Benchmark centreline velocities of the lid-driven cavity at Re = 100.

Ghia, Ghia & Shin (1982), "High-Re solutions for incompressible flow using the Navier-Stokes equations
and a multigrid method", J. Comput. Phys. 48, 387-411: Table I (``u`` along the vertical line through the
geometric centre, ``x = 0.5``) and Table II (``v`` along the horizontal line ``y = 0.5``), Re = 100 columns,
computed on a 129 x 129 grid. Stations are nodes of that grid (``k / 128``) rounded to 4 decimals in the
paper. Both tables are ordered as printed, from the lid (``y = 1``) and from the right wall (``x = 1``).
The values are checked independently against ``cavity.py`` in the tests (agreement within 0.01).
"""

from __future__ import annotations

import numpy as np

# The tables keep the printed layout.
# fmt: off
GHIA_RE100_U_Y = np.array([
    1.0000, 0.9766, 0.9688, 0.9609, 0.9531, 0.8516, 0.7344, 0.6172, 0.5000,
    0.4531, 0.2813, 0.1719, 0.1016, 0.0703, 0.0625, 0.0547, 0.0000,
])  # (17,) y stations on x = 0.5

GHIA_RE100_U = np.array([
    1.00000, 0.84123, 0.78871, 0.73722, 0.68717, 0.23151, 0.00332, -0.13641, -0.20581,
    -0.21090, -0.15662, -0.10150, -0.06434, -0.04775, -0.04192, -0.03717, 0.00000,
])  # (17,) u(0.5, y)

GHIA_RE100_V_X = np.array([
    1.0000, 0.9688, 0.9609, 0.9531, 0.9453, 0.9063, 0.8594, 0.8047, 0.5000,
    0.2344, 0.2266, 0.1563, 0.0938, 0.0781, 0.0703, 0.0625, 0.0000,
])  # (17,) x stations on y = 0.5

GHIA_RE100_V = np.array([
    0.00000, -0.05906, -0.07391, -0.08864, -0.10313, -0.16914, -0.22445, -0.24533, 0.05454,
    0.17527, 0.17507, 0.16077, 0.12317, 0.10890, 0.10091, 0.09233, 0.00000,
])  # (17,) v(x, 0.5)
# fmt: on

# The converged solution at the same stations: the second-order finite differences of ``cavity.py`` on 257 and
# 513 node grids, Richardson-extrapolated (``bench/cavity_converged.py``; the last extrapolation step moves no
# value by more than 6e-5; min psi -0.103520). Ghia's table is itself a 129 x 129 second-order solution: it is off
# these values by up to 0.0049 in u and 0.0093 in v (at x = 0.8594, beside the v minimum), so a solution closer to Ghia
# than that is not closer to the flow. Same order as the Ghia arrays above.
# fmt: off
CONVERGED_RE100_U = np.array([
    1.00000, 0.84348, 0.79161, 0.74071, 0.69118, 0.23644, 0.00415, -0.13881, -0.20915,
    -0.21398, -0.15765, -0.10173, -0.06441, -0.04663, -0.04198, -0.03722, 0.00000,
])  # (17,) u(0.5, y) at GHIA_RE100_U_Y

CONVERGED_RE100_V = np.array([
    0.00000, -0.06229, -0.07790, -0.09334, -0.10851, -0.17716, -0.23371, -0.25354, 0.05754,
    0.17956, 0.17936, 0.16480, 0.12638, 0.11178, 0.10360, 0.09481, 0.00000,
])  # (17,) v(x, 0.5) at GHIA_RE100_V_X
# fmt: on
