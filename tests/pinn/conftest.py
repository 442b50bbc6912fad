"""Shared PINN test problems."""

import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.pinn.conditions import Dirichlet, Observations
from pinngen.pinn.geometry import Interval
from pinngen.pinn.problem import Problem


def _poisson_1d(k=np.pi, *, observe=None, unknown_k=None):
    """u'' = -k^2 sin(k x) on [0, 1], u(0) = 0, u(1) = sin(k); exact u = sin(k x)."""
    params = {"k": unknown_k if unknown_k is not None else k}
    conds = [Dirichlet("bc", on="boundary", value=lambda c: jnp.sin(k * c["x"]))]
    if observe is not None:
        conds.append(Observations("data", points=observe[:, None], values=np.sin(k * observe)))

    def residual(d, p):
        return d["u_xx"] + p["k"] ** 2 * jnp.sin(p["k"] * d.coords["x"])

    return Problem(name="poisson1d", inputs=("x",), outputs=("u",), geometry=Interval(0.0, 1.0), residual=residual,
                   parameters=params, conditions=conds)


@pytest.fixture
def poisson_1d():
    """The factory ``poisson_1d(k=pi, *, observe=None, unknown_k=None) -> Problem``."""
    return _poisson_1d
