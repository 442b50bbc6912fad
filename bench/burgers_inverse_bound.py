"""How well can l1, l2 of Burgers be identified from 2,000 noisy observations at all?

The burgers-inverse target asks for both coefficients within 0.5 % from 2,000 observations with 1 % noise.
This script measures what the data allow, independently of any network, for the observation sets and noise
draws that `pinngen run burgers-inverse --seed S --set options.noise=0.01` uses (points drawn with seed S,
noise with seed S + 1):

- the Cramer-Rao lower bound on the standard deviation of any unbiased estimate of (l1, l2), for an oracle
  that knows the initial and boundary conditions exactly (so the only unknowns are l1 and l2 and the exact
  Cole-Hopf solution is the model); a PINN, which must also infer u0 and the boundary values from the same
  data, can only do worse;
- that oracle's actual error: nonlinear least squares of the exact solution u(x, t; l1, l2) to the noisy
  observations (SciPy's least_squares), seed by seed.

    python bench/burgers_inverse_bound.py --seeds 1 2 3 4 5 [--noise 0.01] [--n 2000]
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.optimize import least_squares

from pinngen.pinn.conditions import add_noise
from pinngen.pinn.problems.burgers_inverse import NU, burgers_data
from pinngen.pinn.reference.burgers import burgers_reference


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    p.add_argument("--noise", type=float, default=0.01)
    p.add_argument("--n", type=int, default=2000)
    a = p.parse_args()
    ref = burgers_data(NU)
    pts = ref.points
    xs, ts = np.unique(pts[:, 0]), np.unique(pts[:, 1])
    ix, it = np.searchsorted(xs, pts[:, 0]), np.searchsorted(ts, pts[:, 1])

    def field(l1: float, nu: float) -> np.ndarray:  # (nt, nx), the exact solution on the reference grid
        return burgers_reference(xs, ts, nu=nu, l1=l1)

    exact = field(1.0, NU)
    assert np.abs(exact[it, ix] - ref.values[:, 0]).max() < 1e-10, "grid indexing does not match the reference"
    h1, h2 = 1e-5, 1e-5 * NU
    d_l1 = (field(1 + h1, NU) - field(1 - h1, NU)) / (2 * h1)
    d_l2 = (field(1.0, NU + h2) - field(1.0, NU - h2)) / (2 * h2)
    print(f"{a.n} observations, noise {100 * a.noise:g} % of std(u); relative errors in %")
    print("| seed | CRB std l1 | CRB std l2 | oracle NLS error l1 | oracle NLS error l2 |")
    print("|---|---|---|---|---|")
    errs = []
    for seed in a.seeds:
        idx = np.random.default_rng(seed).choice(len(pts), a.n, replace=False)
        y = add_noise(ref.values[idx, 0], a.noise, seed=seed + 1)
        sens = np.column_stack([d_l1[it[idx], ix[idx]], d_l2[it[idx], ix[idx]] * NU])  # d u / d (l2 / NU)
        sigma = a.noise * np.std(ref.values[idx, 0])
        sd = np.sqrt(np.diag(np.linalg.inv(sens.T @ sens))) * sigma if a.noise > 0 else np.zeros(2)

        def resid(q, idx=idx, y=y):
            return field(q[0], q[1] * NU)[it[idx], ix[idx]] - y

        fit = least_squares(resid, [0.9, 1.2], xtol=1e-12, ftol=1e-12, gtol=1e-12)
        err = 100 * np.abs(fit.x - 1.0)
        errs.append(err)
        print(f"| {seed} | {100 * sd[0]:.3f} | {100 * sd[1]:.3f} | {err[0]:.4f} | {err[1]:.4f} |")
    errs = np.array(errs)
    print(f"| median | | | {np.median(errs[:, 0]):.4f} | {np.median(errs[:, 1]):.4f} |")
    print(f"| worst | | | {errs[:, 0].max():.4f} | {errs[:, 1].max():.4f} |")


if __name__ == "__main__":
    main()
