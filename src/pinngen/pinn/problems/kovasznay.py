"""Kovasznay flow (Kovasznay 1948): steady incompressible Navier-Stokes at Re = 20 on
[-0.5, 1] x [-0.5, 1.5]; outputs (u, v, p)::

    u u_x + v u_y + p_x - (u_xx + u_yy) / Re = 0,
    u v_x + v v_y + p_y - (v_xx + v_yy) / Re = 0,
    u_x + v_y = 0,

with the exact velocity on the whole boundary and the exact pressure on the outflow (x = 1), which fixes
the pressure constant. Reference: ``pinn.reference.kovasznay`` on a 101 x 101 grid; ``rel_l2`` compares
the velocity (u, v), the pressure is reported separately.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from pinngen.pinn.conditions import Dirichlet
from pinngen.pinn.geometry import Rectangle
from pinngen.pinn.problem import Problem, Reference


def _lam(re):
    return re / 2.0 - np.sqrt(re**2 / 4.0 + 4.0 * np.pi**2)


def kovasznay_exact(x, *, re: float = 20.0):
    lam = _lam(re)
    X, Y = x[:, 0], x[:, 1]
    decay = jnp.exp(lam * X)
    u = 1.0 - decay * jnp.cos(2 * jnp.pi * Y)
    v = lam / (2 * jnp.pi) * decay * jnp.sin(2 * jnp.pi * Y)
    p = 0.5 * (1.0 - decay**2)
    return jnp.stack([u, v, p], axis=1)


def navier_stokes_residual(d, p):
    """Steady incompressible Navier-Stokes, outputs (u, v, p), 1/Re = p["nu"]."""
    u, v = d["u"], d["v"]
    return {
        "momentum_x": u * d["u_x"] + v * d["u_y"] + d["p_x"] - p["nu"] * (d["u_xx"] + d["u_yy"]),
        "momentum_y": u * d["v_x"] + v * d["v_y"] + d["p_y"] - p["nu"] * (d["v_xx"] + d["v_yy"]),
        "continuity": d["u_x"] + d["v_y"],
    }


def kovasznay(*, re: float = 20.0) -> Problem:
    from pinngen.pinn.reference import kovasznay as kovasznay_np

    def value(i):
        return lambda c: kovasznay_exact(jnp.stack([c["x"], c["y"]], axis=1), re=re)[:, i]

    def reference():
        x, y = np.linspace(-0.5, 1.0, 101), np.linspace(-0.5, 1.5, 101)
        u, v, pr = kovasznay_np(x[None, :], y[:, None], re=re)
        return Reference.from_grid((x, y), np.stack([u, v, pr], axis=-1), source="closed form, 101 x 101 grid")

    conditions = [
        Dirichlet("bc_u", on="boundary", value=value(0), component="u"),
        Dirichlet("bc_v", on="boundary", value=value(1), component="v"),
        Dirichlet("bc_p", on="right", value=value(2), component="p"),
    ]
    return Problem(
        name="kovasznay", inputs=("x", "y"), outputs=("u", "v", "p"),
        geometry=Rectangle([-0.5, -0.5], [1.0, 1.5]), residual=navier_stokes_residual,
        parameters={"nu": 1.0 / re}, conditions=conditions, exact=lambda x: kovasznay_exact(x, re=re),
        reference=reference, metric_outputs=("u", "v"),
        description="Kovasznay flow, steady Navier-Stokes at Re = 20")
