"""Lid-driven cavity at Re = 100: steady incompressible Navier-Stokes on [0, 1]^2, outputs (u, v, p),
no-slip walls and the lid u = 1, v = 0 at y = 1.

Reference: streamfunction-vorticity finite differences (``pinn.reference.cavity_reference``, 129 x 129,
cached); the report compares the centre-line velocities u(0.5, y) and v(x, 0.5) with Ghia, Ghia & Shin
(1982) (``ghia_max_dev``) and with the converged finite-difference values at the same stations
(``converged_max_dev``; Ghia's table is itself off those by up to 0.0093). The lid's corner discontinuity is
kept as posed (u = 1 on the whole lid).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from pinngen.pinn.conditions import Dirichlet, OutputTransform
from pinngen.pinn.geometry import Rectangle
from pinngen.pinn.problem import Problem, Reference
from pinngen.pinn.problems.kovasznay import navier_stokes_residual

_K = np.pi**2 - 4.0
# Taylor's scraper flow in the quarter plane xi, eta > 0 (wall eta = 0 sliding with radial speed 1, wall xi = 0
# fixed): psi = r f(theta), f = A sin + C theta sin + D theta cos, p = (2 nu / r)(D cos + C sin).
_A, _C, _D = np.pi**2 / _K, -2.0 * np.pi / _K, -4.0 / _K


def _scraper(xi, eta, speed, nu, xp):
    """Local Stokes corner flow: (psi, u_xi, u_eta, p) at (xi, eta) >= 0, the wall eta = 0 moving at
    radial speed ``speed``; xi, eta clipped to >= 1e-9 so that the corner itself stays finite."""
    xi, eta = xp.maximum(xi, 1e-9), xp.maximum(eta, 1e-9)
    r, t = xp.sqrt(xi**2 + eta**2), xp.arctan2(eta, xi)
    s, c = xp.sin(t), xp.cos(t)
    f = _A * s + _C * t * s + _D * t * c
    df = _A * c + _C * (s + t * c) + _D * (c - t * s)
    ur, ut = df, -f
    return (speed * r * f, speed * (ur * c - ut * s), speed * (ur * s + ut * c),
            speed * 2.0 * nu / r * (_D * c + _C * s))


def lid_corner_flow(x, y, nu, xp=np):
    """(u, v, p) of the two Stokes lid-corner flows of the unit cavity, blended across x by w = 1 - 3x^2 + 2x^3
    applied to the streamfunction (divergence-free; u = 1 on the lid, u = v = 0 on the side walls exactly)."""
    psi1, a1, b1, p1 = _scraper(x, 1.0 - y, 1.0, nu, xp)        # corner (0, 1): xi = x, eta = 1 - y
    psi2, a2, b2, p2 = _scraper(1.0 - x, 1.0 - y, -1.0, nu, xp)  # corner (1, 1): xi = 1 - x, eta = 1 - y
    g1, u1, v1 = -psi1, a1, -b1
    g2, u2, v2 = psi2, -a2, -b2
    w, dw = 1.0 - 3.0 * x**2 + 2.0 * x**3, -6.0 * x + 6.0 * x**2
    u = w * u1 + (1.0 - w) * u2
    v = w * v1 + (1.0 - w) * v2 - dw * (g1 - g2)
    return u, v, w * p1 + (1.0 - w) * p2


def cavity(*, re: float = 100.0, n_ref: int = 129, corner_taper: float = 0.0, corner_flow: bool = False) -> Problem:
    """corner_taper: radius rho > 0 tapers the weight of the lid, wall and residual terms linearly to 0 at
    the two lid corners, w = min(1, r / rho), r the distance to the nearer one: there u jumps from 1 to 0
    and no network can zero those terms, which otherwise pull the whole field (the Modulus cavity example
    weights its lid term the same way). 0: no taper.

    corner_flow: the network learns the flow minus the Stokes flow of each lid corner (``lid_corner_flow``,
    Taylor's scraper solution, added back by an output transform). That flow carries the jump of u from 1 to 0
    and the 1/r pressure, so what is left for the network is bounded with bounded gradients, and its residual
    near a corner grows like 1/r (the inertia of the corner flow) instead of 1/r^2."""
    from pinngen.pinn.reference import cavity_reference

    if corner_taper < 0:
        raise ValueError(f"corner_taper={corner_taper!r} must be >= 0 (a radius; 0 turns the taper off)")

    def reference():
        # interior nodes only: the walls hold the imposed values, and at the lid corners u has no value (it
        # jumps from 1 to 0 there), so two boundary nodes would otherwise carry an error of order 1 whatever
        # the solution
        s = cavity_reference(n_ref, re)
        inner = (slice(1, -1), slice(1, -1))
        vals = np.stack([s.u[inner], s.v[inner], np.zeros_like(s.u[inner])], axis=-1)  # no reference pressure
        return Reference.from_grid((s.x[1:-1], s.y[1:-1]), vals,
                                   source=f"finite differences (Newton), {n_ref} x {n_ref} grid, interior nodes")

    def report(predict, figs):
        from pinngen.pinn.reference import (
            CONVERGED_RE100_U,
            CONVERGED_RE100_V,
            GHIA_RE100_U,
            GHIA_RE100_U_Y,
            GHIA_RE100_V,
            GHIA_RE100_V_X,
        )

        if re != 100.0:
            return {}
        u = predict(np.column_stack([np.full_like(GHIA_RE100_U_Y, 0.5), GHIA_RE100_U_Y]))[:, 0]
        v = predict(np.column_stack([GHIA_RE100_V_X, np.full_like(GHIA_RE100_V_X, 0.5)]))[:, 1]
        du, dv = np.abs(u - GHIA_RE100_U), np.abs(v - GHIA_RE100_V)
        cu, cv = np.abs(u - CONVERGED_RE100_U), np.abs(v - CONVERGED_RE100_V)
        rows = [[float(y), float(a), float(b), float(bc), float(x), float(c), float(e), float(ec)]
                for y, a, b, bc, x, c, e, ec in zip(GHIA_RE100_U_Y, u, GHIA_RE100_U, CONVERGED_RE100_U,
                                                    GHIA_RE100_V_X, v, GHIA_RE100_V, CONVERGED_RE100_V, strict=True)]
        return {"summary": {"ghia_max_dev_u": float(du.max()), "ghia_max_dev_v": float(dv.max()),
                            "ghia_max_dev": float(max(du.max(), dv.max())),
                            "converged_max_dev_u": float(cu.max()), "converged_max_dev_v": float(cv.max()),
                            "converged_max_dev": float(max(cu.max(), cv.max()))},
                "tables": [{"title": "Centre lines vs Ghia, Ghia & Shin (1982) and the converged solution "
                                     "(finite differences, 257 and 513 grids, Richardson), Re = 100; Ghia's table is "
                                     "off the converged values by up to 0.0049 (u) and 0.0093 (v)",
                            "columns": ["y", "u(0.5, y) PINN", "u Ghia", "u converged",
                                        "x", "v(x, 0.5) PINN", "v Ghia", "v converged"],
                            "rows": rows}]}

    def taper(c, xp):
        r = xp.minimum(xp.hypot(c["x"], 1.0 - c["y"]), xp.hypot(1.0 - c["x"], 1.0 - c["y"]))
        return xp.minimum(1.0, r / corner_taper)

    host_w = (lambda c: taper(c, np)) if corner_taper else None
    walls = ("left", "right", "bottom")
    conditions = [
        Dirichlet("lid", on="top", value=np.array([1.0, 0.0]), component=("u", "v"), weight=host_w),
        Dirichlet("walls", on=walls, value=0.0, component=("u", "v"), weight=host_w),
    ]
    transform = None
    if corner_flow:
        nu = 1.0 / re

        def add_corner_flow(c, raw):
            return raw + jnp.stack(lid_corner_flow(c["x"], c["y"], nu, jnp), axis=1).astype(raw.dtype)

        transform = OutputTransform(add_corner_flow, enforces=("lid-corner Stokes flow",))
    return Problem(
        name="cavity", inputs=("x", "y"), outputs=("u", "v", "p"), geometry=Rectangle([0.0, 0.0], [1.0, 1.0]),
        residual=navier_stokes_residual, parameters={"nu": 1.0 / re}, conditions=conditions,
        reference=reference, metric_outputs=("u", "v"), report=report,
        residual_weight=(lambda c: taper(c, jnp)) if corner_taper else None, transform=transform,
        description=f"lid-driven cavity, steady Navier-Stokes at Re = {re:g}")
