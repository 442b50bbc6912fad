"""The 2-D toys follow their definitions, and the two-sample tests compute the textbook statistics and
separate different distributions while accepting equal ones."""

import numpy as np
import pytest

from pinngen.generative.diffusion_data import from_model_space, load_diffusion_data, toy_points
from pinngen.generative.two_sample import energy_test, mmd_test


def test_two_moons_lie_on_their_half_circles():
    x = toy_points("two_moons", 4000, 0)
    r0 = np.hypot(x[:, 0], x[:, 1])  # upper moon: radius 1 around (0, 0)
    r1 = np.hypot(x[:, 0] - 1.0, x[:, 1] - 0.5)  # lower moon: radius 1 around (1, 0.5)
    nearest = np.minimum(np.abs(r0 - 1.0), np.abs(r1 - 1.0))
    assert np.median(nearest) < 0.1 and np.mean(nearest < 0.35) > 0.97


def test_eight_gaussians_have_eight_equal_modes_on_a_circle():
    x = toy_points("eight_gaussians", 8000, 1)
    ang = np.round(np.arctan2(x[:, 1], x[:, 0]) / (np.pi / 4)) % 8
    counts = np.bincount(ang.astype(int), minlength=8)
    assert counts.min() > 850 and counts.max() < 1150
    assert abs(np.median(np.hypot(x[:, 0], x[:, 1])) - 2.0) < 0.02


def test_checkerboard_fills_only_black_squares_uniformly():
    x = toy_points("checkerboard", 8000, 2)
    assert np.all(np.abs(x) <= 2.0)
    i, j = np.floor(x[:, 0] + 2).astype(int), np.floor(x[:, 1] + 2).astype(int)
    assert np.all((i + j) % 2 == 0)
    counts = np.bincount(i * 4 + j, minlength=16)[[(a * 4 + b) for a in range(4) for b in range(4) if (a + b) % 2 == 0]]
    assert counts.min() > 850


def test_toy_seeds_differ_and_repeat():
    np.testing.assert_array_equal(toy_points("two_moons", 10, 3), toy_points("two_moons", 10, 3))
    assert not np.array_equal(toy_points("two_moons", 10, 3), toy_points("two_moons", 10, 4))
    with pytest.raises(ValueError, match="choose one of"):
        toy_points("spiral", 10, 0)


def _energy_by_loops(x, y):
    def mean_dist(a, b, same):
        tot, cnt = 0.0, 0
        for i in range(len(a)):
            for j in range(len(b)):
                if same and i == j:
                    continue
                tot += np.linalg.norm(a[i] - b[j])
                cnt += 1
        return tot / cnt

    return 2 * mean_dist(x, y, False) - mean_dist(x, x, True) - mean_dist(y, y, True)


def test_energy_statistic_matches_its_definition():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(17, 3)), rng.normal(0.5, 1.0, size=(23, 3))
    r = energy_test(x, y, permutations=10)
    assert r["statistic"] == pytest.approx(_energy_by_loops(x, y), rel=1e-9)


def test_tests_reject_a_shift_and_accept_equal_distributions():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(400, 2)), rng.normal(size=(400, 2))
    shifted = rng.normal(0.3, 1.0, size=(400, 2))
    for fn in (energy_test, mmd_test):
        assert fn(a, shifted, permutations=100)["p_value"] < 0.01
        assert fn(a, b, permutations=100)["p_value"] > 0.05


def test_two_sample_errors_are_one_line():
    with pytest.raises(ValueError, match="features"):
        energy_test(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        energy_test(np.full((5, 2), np.nan), np.zeros((5, 2)))


def test_vectors_are_standardised_and_mapped_back():
    d = load_diffusion_data("eight_gaussians", toy_points_n=2000, seed=0)
    assert d.kind == "vector" and d.shape == (2,)
    np.testing.assert_allclose(d.x_train.mean(0), 0.0, atol=0.1)
    np.testing.assert_allclose(d.x_train.std(0), 1.0, atol=0.1)
    np.testing.assert_allclose(from_model_space(d.x_train, d.spec()), d.raw_train, atol=1e-5)


def test_own_image_array_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(60, 6, 5), dtype=np.uint8)
    np.save(tmp_path / "imgs.npy", imgs)
    d = load_diffusion_data("array", path=str(tmp_path / "imgs.npy"), val=0.1, test=0.2)
    assert d.kind == "image" and d.shape == (6, 5, 1) and d.data_shape == (6, 5)
    assert d.x_train.min() >= -1 and d.x_train.max() <= 1
    back = from_model_space(d.x_train, d.spec())
    np.testing.assert_allclose(back, d.raw_train, atol=1e-6)
