"""1-D heat equation u_t = k u_xx on [0, 1] x [0, 1], u(0, t) = u(1, t) = 0,
u(x, 0) = sin(pi x) + 0.5 sin(4 pi x) (two decaying modes).

Reference: the closed form ``pinn.reference.heat_1d`` on a 201 x 101 grid.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from pinngen.pinn.conditions import Dirichlet, InitialValue, OutputTransform
from pinngen.pinn.geometry import Interval, TimeDomain
from pinngen.pinn.problem import Problem, Reference

MODES = ((1, 1.0), (4, 0.5))  # (n, amplitude): the same modes as pinn.reference.closed_form.HEAT_MODES


def heat_exact(x, *, k: float = 0.1):
    """JAX closed form, x (n, 2) columns (x, t) -> (n, 1)."""
    X, T = x[:, 0], x[:, 1]
    u = sum(a * jnp.exp(-k * (n * jnp.pi) ** 2 * T) * jnp.sin(n * jnp.pi * X) for n, a in MODES)
    return u[:, None]


def _initial(c):
    return sum(a * jnp.sin(n * jnp.pi * c["x"]) for n, a in MODES)


def heat(*, k: float = 0.1, hard: bool = False) -> Problem:
    """hard: u = u0(x) + t x (1 - x) N, so the initial and boundary conditions hold exactly."""
    from pinngen.pinn.reference import heat_1d

    def reference():
        x, t = np.linspace(0.0, 1.0, 201), np.linspace(0.0, 1.0, 101)
        return Reference.from_grid((x, t), heat_1d(x[None, :], t[:, None], k=k), source="closed form, 201 x 101 grid")

    transform, conditions = None, [Dirichlet("bc", on="boundary", value=0.0), InitialValue("ic", value=_initial)]
    if hard:
        transform = OutputTransform(
            lambda c, raw: _initial(c)[:, None] + (c["t"] * c["x"] * (1.0 - c["x"]))[:, None] * raw,
            enforces=("initial value", "dirichlet"))
        conditions = []
    return Problem(
        name="heat", inputs=("x", "t"), outputs=("u",), geometry=Interval(0.0, 1.0) * TimeDomain(0.0, 1.0),
        residual=lambda d, p: d["u_t"] - p["k"] * d["u_xx"], parameters={"k": k}, conditions=conditions,
        transform=transform, exact=lambda x: heat_exact(x, k=k), reference=reference,
        description="heat u_t = k u_xx on [0, 1], two sine modes")
