"""Your own PDE from the CLI (2/3): identify a diffusion coefficient from noisy measurements.

    python examples/pinn_own/diffusivity_1d.py                # writes diffusivity_obs.csv (200 noisy readings)
    pinngen run examples/pinn_own/diffusivity_1d.yaml

u_t = D u_xx on [0, 1] x [0, 1], u = 0 at both ends, u(x, 0) = sin(pi x); D is unknown (start: 0.2). The
measurements are a CSV whose columns are named after the problem's inputs and output (x, t, u). Here they are
made from the closed form exp(-D pi^2 t) sin(pi x) with D = 0.05 and 1 % noise, so the run can report how far
the identified D is from the truth; with your own measurements, leave `true` out.
"""

import sys

import jax.numpy as jnp
import numpy as np

from pinngen.pinn import Problem, unknown
from pinngen.pinn.conditions import Dirichlet, InitialValue
from pinngen.pinn.geometry import Interval, TimeDomain

TRUE_D = 0.05


def make_problem(*, d_init: float = 0.2):
    return Problem(name="diffusivity_1d", inputs=("x", "t"), outputs=("u",),
                   geometry=Interval(0.0, 1.0) * TimeDomain(0.0, 1.0),
                   residual=lambda d, p: d["u_t"] - p["D"] * d["u_xx"],
                   parameters={"D": unknown(d_init, transform="exp", true=TRUE_D)},
                   conditions=[Dirichlet("bc", on="boundary", value=0.0),
                               InitialValue("ic", value=lambda c: jnp.sin(jnp.pi * c["x"]))],
                   description="heat equation with an unknown diffusion coefficient")


def write_measurements(path: str, *, n: int = 200, noise: float = 0.01, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    x, t = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    u = np.exp(-TRUE_D * np.pi**2 * t) * np.sin(np.pi * x)
    u += noise * u.std() * rng.standard_normal(n)
    np.savetxt(path, np.column_stack([x, t, u]), delimiter=",", header="x,t,u", comments="", fmt="%.8g")


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "diffusivity_obs.csv"
    write_measurements(out)
    print(f"wrote {out}")
