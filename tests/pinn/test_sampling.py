"""Fixed-size resampling and residual-based adaptive selection put points where they should."""

import numpy as np
import pytest

from pinngen.pinn.geometry import Disk, Interval, Rectangle, TimeDomain
from pinngen.pinn.sampling import Sampler, rad, rar

PEAK = np.array([0.3, 0.7])


def _peaked(m=4000, seed=0):
    """Uniform candidates in the unit square and a residual peaked sharply at PEAK."""
    x = Rectangle((0, 0), (1, 1)).sample_interior(m, rng=seed)
    r = np.exp(-np.sum((x - PEAK) ** 2, axis=1) / (2 * 0.05**2))
    return x, r


def test_sampler_fixed_size_and_rounds():
    s = Sampler(Rectangle((0, 0), (1, 1)), n=64, method="sobol", seed=3, resample_every=10)
    a, b, c = s.draw(0), s.draw(9), s.draw(10)
    assert a.shape == b.shape == c.shape == (64, 2)
    np.testing.assert_array_equal(a, b)  # same round
    assert not np.allclose(a, c)  # new round, new seed
    np.testing.assert_array_equal(c, s.draw(19))
    assert [s.round_of(k) for k in (0, 9, 10, 25)] == [0, 0, 1, 2]
    assert [s.should_resample(k) for k in (0, 5, 10, 11, 20)] == [True, False, True, False, True]
    other_seed = Sampler(Rectangle((0, 0), (1, 1)), n=64, method="sobol", seed=4, resample_every=10)
    assert not np.allclose(a, other_seed.draw(0))


def test_sampler_never_resamples_with_zero_and_draws_boundary_parts():
    st = Interval(0, 1) * TimeDomain(0, 1)
    fixed = Sampler(st, n=32, resample_every=0)
    np.testing.assert_array_equal(fixed.draw(0), fixed.draw(12345))
    assert not fixed.should_resample(10)
    ic = Sampler(st, n=16, region="initial", method="lhs", resample_every=1)
    x = ic.draw(7)
    assert x.shape == (16, 2) and (x[:, 1] == 0).all()
    bc = Sampler(st, n=10, region="boundary", method="grid")
    assert np.isin(bc.draw(0)[:, 0], [0, 1]).all()


def test_sampler_validation():
    d = Disk((0, 0), 1)
    with pytest.raises(ValueError, match=r"region='rim'.*valid parts: \('circle',\)"):
        Sampler(d, n=8, region="rim")
    with pytest.raises(ValueError, match="n=0"):
        Sampler(d, n=0)
    with pytest.raises(ValueError, match=r"method='random'.*'sobol'"):
        Sampler(d, n=8, method="random")
    with pytest.raises(ValueError, match="resample_every=-1"):
        Sampler(d, n=8, resample_every=-1)
    with pytest.raises(ValueError, match="step=-1"):
        Sampler(d, n=8).draw(-1)


def test_rar_returns_exactly_the_top_k():
    x, r = _peaked()
    picked, idx = rar(x, r, 25, return_index=True)
    assert picked.shape == (25, 2)
    assert set(idx.tolist()) == set(np.argsort(r)[-25:].tolist())
    assert np.all(np.diff(r[idx]) <= 0)  # decreasing residual
    assert r[idx].min() >= np.delete(r, idx).max()
    # Systems: rows are ranked by the Euclidean norm of the residual vector.
    r2 = np.stack([r, np.zeros_like(r)], axis=1)
    np.testing.assert_array_equal(rar(x, r2, 25), picked)
    # Ties keep the lower index first.
    assert rar(np.arange(5.0)[:, None], np.array([1, 3, 3, 0, 3]), 2, return_index=True)[1].tolist() == [1, 2]


def test_rar_and_rad_concentrate_near_the_peak():
    x, r = _peaked()
    uniform = np.linalg.norm(x[np.random.default_rng(1).choice(len(x), 200, replace=False)] - PEAK, axis=1)
    near_rar = np.linalg.norm(rar(x, r, 200) - PEAK, axis=1)
    near_rad = np.linalg.norm(rad(x, r, 200, k=2.0, c=0.0, rng=0) - PEAK, axis=1)
    assert near_rar.mean() < 0.25 * uniform.mean()
    assert near_rad.mean() < 0.35 * uniform.mean()
    # The uniform floor c pulls RAD back towards uniform sampling.
    floor = np.linalg.norm(rad(x, r, 200, k=1.0, c=100.0, rng=0) - PEAK, axis=1)
    assert floor.mean() > 0.8 * uniform.mean()


def test_rad_without_replacement_reproducible_and_zero_residual():
    x, r = _peaked(m=300)
    a, idx = rad(x, r, 150, rng=7, return_index=True)
    assert len(np.unique(idx)) == 150
    np.testing.assert_array_equal(a, x[idx])
    np.testing.assert_array_equal(a, rad(x, r, 150, rng=np.random.default_rng(7)))
    z = rad(x, np.zeros(300), 10, k=1.0, c=0.0, rng=0)  # no preference: uniform, no NaN
    assert z.shape == (10, 2) and np.isfinite(z).all()


def test_adaptive_validation():
    x, r = _peaked(m=50)
    with pytest.raises(ValueError, match=r"n_add=51 must be an integer in \[0, 50\]"):
        rar(x, r, 51)
    with pytest.raises(ValueError, match="residual_abs must have shape"):
        rar(x, r[:-1], 5)
    with pytest.raises(ValueError, match="k=-1"):
        rad(x, r, 5, k=-1, rng=0)
    with pytest.raises(ValueError, match="c=-0.5"):
        rad(x, r, 5, c=-0.5, rng=0)
    with pytest.raises(ValueError, match="rng=None"):
        rad(x, r, 5, rng=None)
    with pytest.raises(ValueError, match="non-zero probability"):
        rad(x, np.r_[1.0, np.zeros(49)], 5, c=0.0, rng=0)
    with pytest.raises(ValueError, match="non-finite"):
        rar(x, np.r_[np.nan, r[1:]], 5)
