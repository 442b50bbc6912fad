"""Korteweg-de Vries (Raissi et al. 2019, sec. 4.2.2): u_t + u u_x + delta2 u_xxx = 0, x in [-1, 1]
periodic, t in [0, 1], u(x, 0) = cos(pi x), delta2 = 0.0025.

Reference: Fourier / ETDRK4 (``pinn.reference.kdv_reference``).
"""

from __future__ import annotations

import jax.numpy as jnp

from pinngen.pinn.conditions import InitialValue, Periodic, hard_initial
from pinngen.pinn.geometry import Interval, TimeDomain
from pinngen.pinn.problem import Problem, Reference


def _initial(c):
    return jnp.cos(jnp.pi * c["x"])


def kdv(*, delta2: float = 0.0025, hard: bool = True, periodic_bc: bool = True, nx: int = 256,
        nt: int = 101) -> Problem:
    """hard: u = cos(pi x) + t N. periodic_bc: periodic condition on u, u_x, u_xx."""
    from pinngen.pinn.reference import kdv_grid, kdv_reference

    def reference():
        x, t = kdv_grid(nx, nt)
        return Reference.from_grid((x, t), kdv_reference(x, t, delta2=delta2),
                                   source=f"Fourier/ETDRK4 (512 modes), {nx} x {nt} grid")

    conditions = [Periodic("periodic", dim="x", order=2)] if periodic_bc else []
    if not hard:
        conditions.append(InitialValue("ic", value=_initial))
    return Problem(
        name="kdv", inputs=("x", "t"), outputs=("u",), geometry=Interval(-1.0, 1.0) * TimeDomain(0.0, 1.0),
        residual=lambda d, p: d["u_t"] + d["u"] * d["u_x"] + p["delta2"] * d["u_xxx"],
        parameters={"delta2": delta2}, conditions=conditions, transform=hard_initial(_initial) if hard else None,
        periodic={"x": 2.0}, reference=reference,
        description="KdV u_t + u u_x + 0.0025 u_xxx = 0, periodic, u0 = cos(pi x)")
