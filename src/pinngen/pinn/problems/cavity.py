"""Lid-driven cavity at Re = 100: steady incompressible Navier-Stokes on [0, 1]^2, outputs (u, v, p),
no-slip walls and the lid u = 1, v = 0 at y = 1.

Reference: streamfunction-vorticity finite differences (``pinn.reference.cavity_reference``, 129 x 129,
cached); the report compares the centre-line velocities u(0.5, y) and v(x, 0.5) with Ghia, Ghia & Shin
(1982) (``ghia_max_dev``). The lid's corner discontinuity is kept as posed (u = 1 on the whole lid).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from pinngen.pinn.conditions import Dirichlet
from pinngen.pinn.geometry import Rectangle
from pinngen.pinn.problem import Problem, Reference
from pinngen.pinn.problems.kovasznay import navier_stokes_residual


def cavity(*, re: float = 100.0, n_ref: int = 129, corner_taper: float = 0.0) -> Problem:
    """corner_taper: radius rho > 0 tapers the weight of the lid, wall and residual terms linearly to 0 at
    the two lid corners, w = min(1, r / rho), r the distance to the nearer one: there u jumps from 1 to 0
    and no network can zero those terms, which otherwise pull the whole field (the Modulus cavity example
    weights its lid term the same way). 0: no taper."""
    from pinngen.pinn.reference import cavity_reference

    if corner_taper < 0:
        raise ValueError(f"corner_taper={corner_taper!r} must be >= 0 (a radius; 0 turns the taper off)")

    def reference():
        s = cavity_reference(n_ref, re)
        vals = np.stack([s.u, s.v, np.zeros_like(s.u)], axis=-1)  # no reference pressure: p column unused
        return Reference.from_grid((s.x, s.y), vals, source=f"finite differences (Newton), {n_ref} x {n_ref} grid")

    def report(predict, figs):
        from pinngen.pinn.reference import GHIA_RE100_U, GHIA_RE100_U_Y, GHIA_RE100_V, GHIA_RE100_V_X

        if re != 100.0:
            return {}
        u = predict(np.column_stack([np.full_like(GHIA_RE100_U_Y, 0.5), GHIA_RE100_U_Y]))[:, 0]
        v = predict(np.column_stack([GHIA_RE100_V_X, np.full_like(GHIA_RE100_V_X, 0.5)]))[:, 1]
        du, dv = np.abs(u - GHIA_RE100_U), np.abs(v - GHIA_RE100_V)
        rows = [[float(y), float(a), float(b), float(x), float(c), float(e)]
                for y, a, b, x, c, e in zip(GHIA_RE100_U_Y, u, GHIA_RE100_U, GHIA_RE100_V_X, v, GHIA_RE100_V,
                                            strict=True)]
        return {"summary": {"ghia_max_dev_u": float(du.max()), "ghia_max_dev_v": float(dv.max()),
                            "ghia_max_dev": float(max(du.max(), dv.max()))},
                "tables": [{"title": "Centre lines vs Ghia, Ghia & Shin (1982), Re = 100",
                            "columns": ["y", "u(0.5, y) PINN", "u Ghia", "x", "v(x, 0.5) PINN", "v Ghia"],
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
    return Problem(
        name="cavity", inputs=("x", "y"), outputs=("u", "v", "p"), geometry=Rectangle([0.0, 0.0], [1.0, 1.0]),
        residual=navier_stokes_residual, parameters={"nu": 1.0 / re}, conditions=conditions,
        reference=reference, metric_outputs=("u", "v"), report=report,
        residual_weight=(lambda c: taper(c, jnp)) if corner_taper else None,
        description=f"lid-driven cavity, steady Navier-Stokes at Re = {re:g}")
