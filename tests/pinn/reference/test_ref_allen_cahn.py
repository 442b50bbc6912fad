"""Allen-Cahn reference: exact initial spectrum, 4th order in time, spectral in space."""

import numpy as np
import pytest

from pinngen.pinn.reference.allen_cahn import (
    allen_cahn_grid,
    allen_cahn_initial,
    allen_cahn_initial_spectrum,
    allen_cahn_reference,
)
from pinngen.pinn.reference.spectral import periodic_grid

X_CHECK = np.linspace(-1.0, 1.0, 64, endpoint=False)
T_CHECK = np.array([0.5, 1.0])


def test_initial_spectrum_matches_fine_sampling():
    # Sampled FFTs alias the C^0 kink at x = +-1, an O(1/n^2) error: 4096 samples -> ~1e-7.
    n = 4096
    sampled = np.fft.rfft(allen_cahn_initial(periodic_grid(n, -1.0, 2.0)))[:40] / n
    exact = allen_cahn_initial_spectrum(n)[:40] / n
    np.testing.assert_allclose(sampled, exact, rtol=0, atol=1e-7)


def test_default_grid_shape_symmetry_and_bounds():
    x, t = allen_cahn_grid()
    assert x.shape == (512,) and t.shape == (201,)
    assert x[0] == -1.0 and x[-1] == pytest.approx(1.0 - 2.0 / 512) and t[-1] == 1.0
    u = allen_cahn_reference()
    assert u.shape == (201, 512)
    np.testing.assert_allclose(u[0], allen_cahn_initial(x), atol=0)
    np.testing.assert_allclose(u[:, 1:], u[:, :0:-1], atol=1e-10)  # even initial data stays even
    assert np.all(np.abs(u) < 1.0 + 1e-6)
    # by t = 1 the field has separated into the phases u = +-1 with sharp interfaces
    assert u[-1].min() < -0.999 and u[-1].max() > 0.99


def test_fourth_order_in_time():
    reference = allen_cahn_reference(X_CHECK, T_CHECK, n_modes=256, dt=0.005 / 8)
    errors = [
        np.abs(allen_cahn_reference(X_CHECK, T_CHECK, n_modes=256, dt=dt) - reference).max()
        for dt in (0.01, 0.005, 0.0025)
    ]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 13.0) & (ratios < 19.0)), (errors, ratios)  # measured 15.7, 15.9


def test_spectral_convergence_in_space():
    reference = allen_cahn_reference(X_CHECK, T_CHECK, n_modes=2048, dt=0.0025)
    errors = [
        np.abs(allen_cahn_reference(X_CHECK, T_CHECK, n_modes=n, dt=0.0025) - reference).max()
        for n in (256, 512, 1024)
    ]
    assert errors[0] > 100 * errors[1] > 1e4 * errors[2], errors  # measured 2e-4, 8e-7, 5e-12
    assert errors[2] < 1e-10


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="eps"):
        allen_cahn_reference(X_CHECK, T_CHECK, eps=0.0)
    with pytest.raises(ValueError, match="n_modes"):
        allen_cahn_reference(X_CHECK, T_CHECK, n_modes=101)
