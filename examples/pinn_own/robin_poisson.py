"""Your own PDE from the CLI (3/3): Poisson's equation with a Robin condition on one side.

    pinngen run examples/pinn_own/robin_poisson.yaml          # or: --set options.alpha=2

-(u_xx + u_yy) = f on the unit square; u + alpha du/dn = g on the right side (x = 1, outward normal +x);
u given on the other three sides. f, g and the Dirichlet values come from u = exp(x) sin(pi y), so the run's
relative L2 error is measured against that closed form on a 101 x 101 grid.
"""

import jax.numpy as jnp
import numpy as np

from pinngen.pinn import Problem, Reference
from pinngen.pinn.conditions import Dirichlet, Robin
from pinngen.pinn.geometry import Rectangle


def exact(c):
    return jnp.exp(c["x"]) * jnp.sin(jnp.pi * c["y"])


def make_problem(*, alpha: float = 1.0):
    def residual(d, p):
        source = (jnp.pi**2 - 1.0) * exact(d.coords)  # f = -(u_xx + u_yy) for the exact u
        return -(d["u_xx"] + d["u_yy"]) - source

    def robin_value(c):  # u + alpha u_x at x = 1
        return (1.0 + alpha) * exact(c)

    x = np.linspace(0.0, 1.0, 101)
    values = np.exp(x)[None, :] * np.sin(np.pi * x)[:, None]  # rows: y, columns: x
    return Problem(name="robin_poisson", inputs=("x", "y"), outputs=("u",), geometry=Rectangle((0, 0), (1, 1)),
                   residual=residual,
                   conditions=[Dirichlet("dirichlet", on=("left", "bottom", "top"), value=exact),
                               Robin("robin", on="right", alpha=1.0, beta=alpha, value=robin_value)],
                   reference=Reference.from_grid((x, x), values, source="closed form exp(x) sin(pi y), 101 x 101"),
                   description="Poisson with a Robin side")
