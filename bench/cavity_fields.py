"""A cavity run against the converged centre lines and the 257-grid finite-difference field.

For a run folder of `pinngen run cavity` (any recipe): the relative L2 error of (u, v) against the 257 x 257
finite-difference solution on all its nodes, without the lid row, and away from the lid corners (r > 0.05, where
the grid itself is accurate), and the largest deviation of the centre lines from Ghia et al. and from the
converged values (``pinn.reference.ghia``), as the run's report measured them. About 20 s on one core.

    python bench/cavity_fields.py bench/out/seeds/cavity/s1
"""

from __future__ import annotations

import sys

import numpy as np

from pinngen.pinn.reference.cavity import cavity_reference
from pinngen.runs import Run


def main(path: str) -> None:
    run = Run(path)
    s = cavity_reference(257, 100.0)
    X, Y = np.meshgrid(s.x, s.y)
    out = run.predict(np.column_stack([X.ravel(), Y.ravel()]))
    u, v = out[:, 0].reshape(X.shape), out[:, 1].reshape(X.shape)
    r = np.minimum(np.hypot(X, 1 - Y), np.hypot(1 - X, 1 - Y))
    for name, mask in [("all nodes", np.ones_like(X, bool)), ("y < 0.99", Y < 0.99), ("r > 0.05", r > 0.05)]:
        err = np.sqrt((((u - s.u) ** 2 + (v - s.v) ** 2)[mask]).sum() / ((s.u**2 + s.v**2)[mask]).sum())
        print(f"{name}: rel L2 (u, v) vs the 257 grid {err:.2e}, max |du| {np.abs(u - s.u)[mask].max():.3g}, "
              f"max |dv| {np.abs(v - s.v)[mask].max():.3g}")
    m = run.metrics["summary"]  # the centre lines were measured by the cavity's own report
    print(f"centre lines vs Ghia: u {m['ghia_max_dev_u']:.4f}, v {m['ghia_max_dev_v']:.4f}")
    print(f"centre lines vs converged: u {m['converged_max_dev_u']:.4f}, v {m['converged_max_dev_v']:.4f}")


if __name__ == "__main__":
    main(sys.argv[1])
