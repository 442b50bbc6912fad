"""2-D Helmholtz u_xx + u_yy + k^2 u = q on [-1, 1]^2, u = 0 on the boundary, exact
u = sin(a1 pi x) sin(a2 pi y), a1 = 1, a2 = 4, k = 1 (Wang, Teng & Perdikaris 2021, SIAM J. Sci. Comput.
43(5), sec. 2.3).

Reference: the closed form ``pinn.reference.helmholtz_2d`` on a 101 x 101 grid.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from pinngen.pinn.conditions import Dirichlet, hard_dirichlet
from pinngen.pinn.geometry import Rectangle
from pinngen.pinn.problem import Problem, Reference


def helmholtz(*, a1: float = 1.0, a2: float = 4.0, k: float = 1.0, hard: bool = False) -> Problem:
    """hard: u = (1 - x^2)(1 - y^2) N, so the boundary condition holds exactly."""
    from pinngen.pinn.reference import helmholtz_2d

    def exact(x):
        return (jnp.sin(a1 * jnp.pi * x[:, 0]) * jnp.sin(a2 * jnp.pi * x[:, 1]))[:, None]

    def residual(d, p):
        X, Y = d.coords["x"], d.coords["y"]
        q = (p["k"] ** 2 - (a1**2 + a2**2) * jnp.pi**2) * jnp.sin(a1 * jnp.pi * X) * jnp.sin(a2 * jnp.pi * Y)
        return d["u_xx"] + d["u_yy"] + p["k"] ** 2 * d["u"] - q

    def reference():
        x = y = np.linspace(-1.0, 1.0, 101)
        return Reference.from_grid((x, y), helmholtz_2d(x[None, :], y[:, None], a1=a1, a2=a2),
                                   source="closed form, 101 x 101 grid")

    transform = hard_dirichlet(lambda c: (1 - c["x"] ** 2) * (1 - c["y"] ** 2)) if hard else None
    return Problem(
        name="helmholtz", inputs=("x", "y"), outputs=("u",), geometry=Rectangle([-1.0, -1.0], [1.0, 1.0]),
        residual=residual, parameters={"k": k}, transform=transform, exact=exact, reference=reference,
        conditions=[] if hard else [Dirichlet("bc", on="boundary", value=0.0)],
        description=f"Helmholtz lap u + k^2 u = q, u = sin({a1:g} pi x) sin({a2:g} pi y)")
