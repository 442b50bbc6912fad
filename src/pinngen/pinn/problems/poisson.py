"""2-D Poisson -(u_xx + u_yy) = f on [0, 1]^2, u = 0 on the boundary, manufactured solution
u = sin(pi x) sin(pi y) exp(x y).

Reference: the closed form ``pinn.reference.poisson_2d`` on a 101 x 101 grid. The source f is written
here in JAX (it must be traced); the tests check it against the reference's NumPy formula and that the
exact solution has zero residual through the operators.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from pinngen.pinn.conditions import Dirichlet, hard_dirichlet
from pinngen.pinn.geometry import Rectangle
from pinngen.pinn.problem import Problem, Reference


def poisson_exact(x):
    X, Y = x[:, 0], x[:, 1]
    return (jnp.sin(jnp.pi * X) * jnp.sin(jnp.pi * Y) * jnp.exp(X * Y))[:, None]


def poisson_source(X, Y):
    """f = -lap(u): lap(s g) = g lap(s) + 2 grad(s).grad(g) + s lap(g), s = sin sin, g = exp(x y)."""
    s = jnp.sin(jnp.pi * X) * jnp.sin(jnp.pi * Y)
    lap_s = -2.0 * jnp.pi**2 * s
    grad_dot = jnp.pi * (Y * jnp.cos(jnp.pi * X) * jnp.sin(jnp.pi * Y) + X * jnp.sin(jnp.pi * X) * jnp.cos(jnp.pi * Y))
    return -jnp.exp(X * Y) * (lap_s + 2.0 * grad_dot + (X**2 + Y**2) * s)


def _residual(d, p):
    return -(d["u_xx"] + d["u_yy"]) - poisson_source(d.coords["x"], d.coords["y"])


def poisson(*, hard: bool = False) -> Problem:
    """hard: u = x (1 - x) y (1 - y) N, so the boundary condition holds exactly."""
    from pinngen.pinn.reference import poisson_2d

    def reference():
        x = y = np.linspace(0.0, 1.0, 101)
        return Reference.from_grid((x, y), poisson_2d(x[None, :], y[:, None]), source="closed form, 101 x 101 grid")

    transform = hard_dirichlet(lambda c: c["x"] * (1 - c["x"]) * c["y"] * (1 - c["y"])) if hard else None
    return Problem(
        name="poisson", inputs=("x", "y"), outputs=("u",), geometry=Rectangle([0.0, 0.0], [1.0, 1.0]),
        residual=_residual, conditions=[] if hard else [Dirichlet("bc", on="boundary", value=0.0)],
        transform=transform, exact=poisson_exact, reference=reference,
        description="Poisson -lap u = f on the unit square, u = sin(pi x) sin(pi y) exp(x y)")
