"""Allen-Cahn (Raissi et al. 2019, sec. 4.1.2): u_t - eps u_xx + 5 u^3 - 5 u = 0, x in [-1, 1] periodic,
t in [0, 1], u(x, 0) = x^2 cos(pi x), eps = 1e-4.

A hard problem for plain PINNs (they converge to the trivial steady state, and u = 0 is unstable: the
reaction term amplifies early errors about e^(5t)). What works here (``experiments/allen-cahn.yaml``):
time marching (``marching.windows``, :mod:`pinngen.pinn.marching`) with warm starts, causal weighting
within each window (``weighting.causal``) and an exactly periodic network (``network.periodic: true``).
The soft initial condition (``hard: false``) lets every window start from its predecessor's weights.
Reference: Fourier / ETDRK4 (``pinn.reference.allen_cahn_reference``).
"""

from __future__ import annotations

import jax.numpy as jnp

from pinngen.pinn.conditions import InitialValue, Periodic, hard_initial
from pinngen.pinn.geometry import Interval, TimeDomain
from pinngen.pinn.problem import Problem, Reference


def _initial(c):
    return c["x"] ** 2 * jnp.cos(jnp.pi * c["x"])


def allen_cahn(*, eps: float = 1e-4, reaction: float = 5.0, hard: bool = True, periodic_bc: bool = True,
               nx: int = 256, nt: int = 101) -> Problem:
    """hard: u = u0(x) + t N. periodic_bc: the periodic condition term (redundant with a periodic network).
    nx, nt: reference grid (periodic x, uniform t)."""
    from pinngen.pinn.reference import allen_cahn_grid, allen_cahn_reference

    def reference():
        x, t = allen_cahn_grid(nx, nt)
        return Reference.from_grid((x, t), allen_cahn_reference(x, t, eps=eps, reaction=reaction),
                                   source=f"Fourier/ETDRK4 (2048 modes), {nx} x {nt} grid")

    conditions = [Periodic("periodic", dim="x", order=1)] if periodic_bc else []
    if not hard:
        conditions.append(InitialValue("ic", value=_initial))
    return Problem(
        name="allen_cahn", inputs=("x", "t"), outputs=("u",), geometry=Interval(-1.0, 1.0) * TimeDomain(0.0, 1.0),
        residual=lambda d, p: d["u_t"] - p["eps"] * d["u_xx"] + p["reaction"] * (d["u"] ** 3 - d["u"]),
        parameters={"eps": eps, "reaction": reaction}, conditions=conditions,
        transform=hard_initial(_initial) if hard else None, periodic={"x": 2.0}, reference=reference,
        description="Allen-Cahn u_t = 1e-4 u_xx + 5 u - 5 u^3, periodic, u0 = x^2 cos(pi x)")
