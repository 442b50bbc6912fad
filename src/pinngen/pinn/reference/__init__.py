"""Independent reference solutions (NumPy/SciPy only) that PINN results are checked against.

Space-time solutions are returned as ``u[i, j] = u(x[j], t[i])``, shape ``(len(t), len(x))``; closed forms
broadcast their coordinate arrays; the cavity returns ``(n, n)`` fields indexed ``[iy, ix]``.
"""

from .allen_cahn import allen_cahn_grid, allen_cahn_initial, allen_cahn_reference
from .burgers import burgers_grid, burgers_reference, burgers_spectral
from .cavity import CavitySolution, cavity_reference, centreline_profiles, solve_cavity
from .closed_form import (
    heat_1d,
    helmholtz_2d,
    helmholtz_2d_source,
    kovasznay,
    kovasznay_lambda,
    poisson_2d,
    poisson_2d_source,
    wave_1d,
)
from .ghia import CONVERGED_RE100_U, CONVERGED_RE100_V, GHIA_RE100_U, GHIA_RE100_U_Y, GHIA_RE100_V, GHIA_RE100_V_X
from .kdv import kdv_grid, kdv_reference, kdv_soliton, kdv_solve

__all__ = [
    "CONVERGED_RE100_U",
    "CONVERGED_RE100_V",
    "CavitySolution",
    "GHIA_RE100_U",
    "GHIA_RE100_U_Y",
    "GHIA_RE100_V",
    "GHIA_RE100_V_X",
    "allen_cahn_grid",
    "allen_cahn_initial",
    "allen_cahn_reference",
    "burgers_grid",
    "burgers_reference",
    "burgers_spectral",
    "cavity_reference",
    "centreline_profiles",
    "heat_1d",
    "helmholtz_2d",
    "helmholtz_2d_source",
    "kdv_grid",
    "kdv_reference",
    "kdv_soliton",
    "kdv_solve",
    "kovasznay",
    "kovasznay_lambda",
    "poisson_2d",
    "poisson_2d_source",
    "solve_cavity",
    "wave_1d",
]
