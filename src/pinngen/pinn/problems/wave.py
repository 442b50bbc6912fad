"""1-D wave equation u_tt = c^2 u_xx on [0, 1] x [0, 1], u(0, t) = u(1, t) = 0,
u(x, 0) = sin(pi x) + 0.5 sin(4 pi x), u_t(x, 0) = 0 (standing waves).

Reference: the closed form ``pinn.reference.wave_1d`` on a 201 x 101 grid.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from pinngen.pinn.conditions import Dirichlet, InitialRate, InitialValue, OutputTransform
from pinngen.pinn.geometry import Interval, TimeDomain
from pinngen.pinn.problem import Problem, Reference


def wave_exact(x, *, c: float = 1.0):
    X, T = x[:, 0], x[:, 1]
    u = jnp.sin(jnp.pi * X) * jnp.cos(c * jnp.pi * T) + 0.5 * jnp.sin(4 * jnp.pi * X) * jnp.cos(4 * c * jnp.pi * T)
    return u[:, None]


def _initial(co):
    return jnp.sin(jnp.pi * co["x"]) + 0.5 * jnp.sin(4 * jnp.pi * co["x"])


def wave(*, c: float = 1.0, hard: bool = False) -> Problem:
    """hard: u = u0(x) + t^2 x (1 - x) N: u(x, 0) = u0, u_t(x, 0) = 0 and u = 0 at x = 0, 1 exactly."""
    from pinngen.pinn.reference import wave_1d

    def reference():
        x, t = np.linspace(0.0, 1.0, 201), np.linspace(0.0, 1.0, 101)
        return Reference.from_grid((x, t), wave_1d(x[None, :], t[:, None], c=c), source="closed form, 201 x 101 grid")

    transform = None
    conditions = [Dirichlet("bc", on="boundary", value=0.0), InitialValue("ic", value=_initial),
                  InitialRate("ic_rate", value=0.0)]
    if hard:
        transform = OutputTransform(
            lambda co, raw: _initial(co)[:, None] + (co["t"] ** 2 * co["x"] * (1 - co["x"]))[:, None] * raw,
            enforces=("initial value", "initial rate", "dirichlet"))
        conditions = []
    return Problem(
        name="wave", inputs=("x", "t"), outputs=("u",), geometry=Interval(0.0, 1.0) * TimeDomain(0.0, 1.0),
        residual=lambda d, p: d["u_tt"] - p["c"] ** 2 * d["u_xx"], parameters={"c": c}, conditions=conditions,
        transform=transform, exact=lambda x: wave_exact(x, c=c), reference=reference,
        description="wave u_tt = c^2 u_xx, standing waves sin(pi x) + 0.5 sin(4 pi x)")
