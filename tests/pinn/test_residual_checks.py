"""The residual off the training points: a wrong answer found without a reference."""

import numpy as np

from pinngen.core.history import History
from pinngen.pinn.residual_checks import residual_findings, training_residual_rms


def _history(pde_mse: float) -> History:
    h = History()
    h.extend(np.arange(3), "adam", {"loss": np.array([1.0, 0.5, 0.1]),
                                    "loss/pde": np.array([1.0, np.nan, pde_mse])})  # NaN: not recorded
    return h


def _points(n=5000, seed=0):
    return np.random.default_rng(seed).uniform([-1.0, 0.0], [1.0, 1.0], size=(n, 2))


BBOX = (np.array([-1.0, 0.0]), np.array([1.0, 1.0]))


def test_training_residual_is_the_root_of_the_last_recorded_pde_terms():
    h = _history(1e-4)
    assert np.isclose(training_residual_rms(h), 1e-2)
    h2 = History()
    h2.extend(np.arange(2), "adam", {"loss": np.ones(2), "loss/pde_u": np.array([1, 4e-4]),
                                     "loss/pde_v": np.array([1, 5e-4])})
    assert np.isclose(training_residual_rms(h2), 3e-2)


def test_a_residual_like_the_training_one_says_nothing():
    x = _points()
    found, s = residual_findings(np.full(len(x), 0.02), x, ("x", "t"), BBOX, _history(1e-4), step=2, where="p")
    assert found == [] and np.isclose(s["residual_gap"], 2.0)


def test_a_large_spread_residual_is_one_warning():
    x = _points()
    res = np.random.default_rng(1).uniform(0.5, 1.5, len(x))  # ~100x the training RMS of 0.01, everywhere
    found, s = residual_findings(res, x, ("x", "t"), BBOX, _history(1e-4), step=2, where="the grid")
    assert [f.code for f in found] == ["residual_off_collocation"] and s["residual_gap"] > 50


def test_a_misplaced_front_is_located():
    x = _points()
    res = np.full(len(x), 1e-3)
    strip = np.abs(x[:, 0] - 0.3) < 0.01  # a thin band around x = 0.3 for all t: 1 % of the points
    res[strip] = 2.0
    found, s = residual_findings(res, x, ("x", "t"), BBOX, _history(1e-4), step=2, where="the grid")
    codes = [f.code for f in found]
    assert codes == ["residual_off_collocation", "residual_concentrated"]
    msg = found[1].message
    lo, hi = (float(v) for v in msg.split("x in [")[1].split("]")[0].split(", "))
    assert 0.28 <= lo <= 0.3 <= hi <= 0.32 and "t in" not in msg  # located in x, spread in t
    assert s["residual_top2pct_share"] > 0.99


def test_a_gap_far_below_the_starting_residual_is_not_a_warning():
    """A high-accuracy run: 100x its training residual off the points, concentrated at a front, but 1e-5 of the
    residual the training started from (1.0): no warning; the same shape at 1e-2 of the start warns twice."""
    x = _points()
    h = History()
    h.extend(np.arange(2), "adam", {"loss": np.array([1.0, 1e-14]), "loss/pde": np.array([1.0, 1e-14])})
    res = np.full(len(x), 1e-6)
    res[np.abs(x[:, 0] - 0.3) < 0.01] = 1e-4
    found, s = residual_findings(res, x, ("x", "t"), BBOX, h, step=1, where="the grid")
    assert found == [] and s["residual_gap"] > 50 and s["residual_vs_start"] < 1e-4
    found, s = residual_findings(res * 1e3, x, ("x", "t"), BBOX, h, step=1, where="the grid")
    assert [f.code for f in found] == ["residual_off_collocation", "residual_concentrated"]
