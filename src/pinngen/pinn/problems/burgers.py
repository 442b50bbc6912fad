"""Viscous Burgers (Raissi, Perdikaris & Karniadakis 2019, J. Comput. Phys. 378, sec. 3.1)::

    u_t + u u_x - nu u_xx = 0,  x in [-1, 1], t in [0, 1],  u(x, 0) = -sin(pi x),  u(+-1, t) = 0,
    nu = 0.01 / pi.

Reference: the exact Cole-Hopf solution (``pinn.reference.burgers_reference``) on Raissi's 256 x 100 grid.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from pinngen.pinn.conditions import Dirichlet, InitialValue, OutputTransform
from pinngen.pinn.geometry import Interval, TimeDomain
from pinngen.pinn.problem import Problem, Reference

NU = 0.01 / np.pi


def burgers_residual(d, p):
    return d["u_t"] + d["u"] * d["u_x"] - p["nu"] * d["u_xx"]


def burgers_data(nu: float = NU) -> Reference:
    from pinngen.pinn.reference import burgers_grid, burgers_reference

    x, t = burgers_grid()
    return Reference.from_grid((x, t), burgers_reference(x, t, nu=nu), source="Cole-Hopf (exact), 256 x 100 grid")


def _initial(c):
    return -jnp.sin(jnp.pi * c["x"])


def burgers(*, nu: float = NU, hard: bool = False) -> Problem:
    """hard: u = -sin(pi x) + t (1 - x^2) N(x, t), so the initial and boundary conditions hold exactly."""
    transform = None
    conditions = [Dirichlet("bc", on="boundary", value=0.0), InitialValue("ic", value=_initial)]
    if hard:
        transform = OutputTransform(
            lambda c, raw: _initial(c)[:, None] + (c["t"] * (1.0 - c["x"] ** 2))[:, None] * raw,
            enforces=("initial value", "dirichlet"))
        conditions = []
    return Problem(
        name="burgers", inputs=("x", "t"), outputs=("u",), geometry=Interval(-1.0, 1.0) * TimeDomain(0.0, 1.0),
        residual=burgers_residual, parameters={"nu": nu}, conditions=conditions, transform=transform,
        reference=lambda: burgers_data(nu),
        description="Burgers u_t + u u_x = nu u_xx, nu = 0.01/pi, u0 = -sin(pi x) (Raissi et al. 2019)")
