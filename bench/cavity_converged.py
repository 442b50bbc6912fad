"""Converged centre-line velocities of the Re = 100 lid-driven cavity at Ghia, Ghia & Shin's stations.

Solves the streamfunction-vorticity finite-difference problem of ``pinngen.pinn.reference.cavity`` (second
order) on 129, 257 and 513 node grids (every Ghia station is a node of each), Richardson-extrapolates the last
two (u_R = (4 u_513 - u_257) / 3) and prints the table kept in ``pinngen.pinn.reference.ghia``
(``CONVERGED_RE100_U``, ``CONVERGED_RE100_V``), each grid's largest deviation from Ghia's table, and the size
of the last extrapolation step. About 3 minutes and 6 GB on one core.

    python bench/cavity_converged.py
"""

from __future__ import annotations

import time

import numpy as np

from pinngen.pinn.reference import GHIA_RE100_U, GHIA_RE100_U_Y, GHIA_RE100_V, GHIA_RE100_V_X
from pinngen.pinn.reference.cavity import solve_cavity


def main() -> None:
    lines = {}
    for n in (129, 257, 513):
        t0 = time.time()
        s = solve_cavity(n, 100.0)
        k, c = (n - 1) // 128, (n - 1) // 2
        iy = np.rint(GHIA_RE100_U_Y * 128).astype(int) * k
        ix = np.rint(GHIA_RE100_V_X * 128).astype(int) * k
        lines[n] = (s.u[iy, c], s.v[c, ix], s.psi.min())
        du, dv = np.abs(lines[n][0] - GHIA_RE100_U).max(), np.abs(lines[n][1] - GHIA_RE100_V).max()
        print(f"n = {n}: {time.time() - t0:.1f} s, min psi {s.psi.min():.6f}, max |u - Ghia| {du:.5f}, "
              f"max |v - Ghia| {dv:.5f}")
    u, v, psi = ((4.0 * a - b) / 3.0 for a, b in zip(lines[513], lines[257], strict=True))
    print(f"Richardson (257, 513): min psi {psi:.6f}; max |u - Ghia| {np.abs(u - GHIA_RE100_U).max():.5f}, "
          f"max |v - Ghia| {np.abs(v - GHIA_RE100_V).max():.5f}; last step changed u by at most "
          f"{np.abs(u - lines[513][0]).max():.1e}, v by {np.abs(v - lines[513][1]).max():.1e}")
    print("CONVERGED_RE100_U =", np.array2string(np.round(u, 5), separator=", "))
    print("CONVERGED_RE100_V =", np.array2string(np.round(v, 5), separator=", "))


if __name__ == "__main__":
    main()
