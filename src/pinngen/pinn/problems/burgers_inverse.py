"""Burgers identification (Raissi et al. 2019, sec. 4.1.1): find l1, l2 in u_t + l1 u u_x - l2 u_xx = 0
from scattered observations of the exact solution (true l1 = 1, l2 = 0.01/pi), optionally noisy.

Data: ``n_observations`` points drawn (seeded) from the 256 x 100 Cole-Hopf grid, with noise
``noise * std(u)``; no initial or boundary data are used.
"""

from __future__ import annotations

import numpy as np

from pinngen.pinn.conditions import Observations, add_noise
from pinngen.pinn.geometry import Interval, TimeDomain
from pinngen.pinn.problem import Problem, unknown
from pinngen.pinn.problems.burgers import NU, burgers_data


def burgers_inverse(*, n_observations: int = 2000, noise: float = 0.0, seed: int = 0, l1_init: float = 0.0,
                    l2_init: float = 0.01) -> Problem:
    """noise: a fraction (0.01 is 1 % of std(u)). l2 is kept positive (exp transform)."""
    ref = burgers_data(NU)
    if not 1 <= n_observations <= len(ref.points):
        raise ValueError(f"n_observations={n_observations} must be in [1, {len(ref.points)}]")
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(ref.points), n_observations, replace=False)
    values = add_noise(ref.values[idx, 0], noise, seed=seed + 1)

    def residual(d, p):
        return d["u_t"] + p["l1"] * d["u"] * d["u_x"] - p["l2"] * d["u_xx"]

    return Problem(
        name="burgers_inverse", inputs=("x", "t"), outputs=("u",), geometry=Interval(-1.0, 1.0) * TimeDomain(0.0, 1.0),
        residual=residual,
        parameters={"l1": unknown(l1_init, true=1.0), "l2": unknown(l2_init, transform="exp", true=NU)},
        conditions=[Observations("data", points=ref.points[idx], values=values)], reference=ref,
        description=f"identify l1, l2 of Burgers from {n_observations} observations ({100 * noise:g} % noise)")
