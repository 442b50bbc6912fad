"""Your own PDE from the CLI (1/3): the 2-D heat equation with a source on an L-shaped domain.

    pinngen run examples/pinn_own/heat_lshape.yaml            # or: --set options.k=0.05

u_t = k (u_xx + u_yy) + f(x, y, t) on the L-shape [0, 1]^2 minus [0.5, 1]^2, t in [0, 1], with the source f
chosen so that u = exp(-t) sin(pi x) sin(pi y) solves it (a manufactured solution): the initial value and the
boundary values come from that u, and the run's relative L2 error is measured against it on 3,000 points.
"""

import jax.numpy as jnp
import numpy as np

from pinngen.pinn import Problem, Reference
from pinngen.pinn.conditions import Dirichlet, InitialValue
from pinngen.pinn.geometry import Polygon, TimeDomain


def exact(c):
    return jnp.exp(-c["t"]) * jnp.sin(jnp.pi * c["x"]) * jnp.sin(jnp.pi * c["y"])


def make_problem(*, k: float = 0.1):
    shape = Polygon([(0, 0), (1, 0), (1, 0.5), (0.5, 0.5), (0.5, 1), (0, 1)])
    domain = shape * TimeDomain(0.0, 1.0)

    def residual(d, p):
        source = (2 * p["k"] * jnp.pi**2 - 1.0) * exact(d.coords)  # f = u_t - k (u_xx + u_yy) for the exact u
        return d["u_t"] - p["k"] * (d["u_xx"] + d["u_yy"]) - source

    pts = domain.sample_interior(3000, method="sobol", rng=np.random.default_rng(0))
    ref = np.exp(-pts[:, 2]) * np.sin(np.pi * pts[:, 0]) * np.sin(np.pi * pts[:, 1])
    return Problem(name="heat_lshape", inputs=("x", "y", "t"), outputs=("u",), geometry=domain,
                   residual=residual, parameters={"k": k},
                   conditions=[Dirichlet("bc", on="boundary", value=exact), InitialValue("ic", value=exact)],
                   reference=Reference(points=pts, values=ref[:, None], source="manufactured exact solution"),
                   description="heat with a source on an L-shaped domain")
