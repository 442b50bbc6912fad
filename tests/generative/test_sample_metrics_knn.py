"""Precision, recall, density and coverage against the authors' ``prdc`` package, and the Fréchet distance
against closed forms and a direct SciPy computation."""

import importlib
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from pinngen.generative.sample_metrics import frechet_distance, frechet_distance_features, knn_radii, prdc

prdc_module = importlib.import_module("pinngen.generative.sample_metrics.prdc")  # the module, not the function

REFERENCE = Path(__file__).parent / "data" / "prdc_reference.npz"  # bench/make_prdc_reference.py, prdc 0.2


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def test_prdc_matches_the_authors_package(reference):
    names = list(reference["names"])
    assert names == ["same", "shifted", "collapsed", "memorised"]
    for name in names:
        got = prdc(reference[f"{name}/real"], reference[f"{name}/fake"], k=int(reference[f"{name}/k"]))
        want = dict(zip(reference["metrics"], reference[f"{name}/expected"], strict=True))
        for metric, value in want.items():
            assert got[metric] == pytest.approx(value, abs=1e-6), (name, metric)


def test_reference_cases_span_the_failure_modes(reference):
    # guards the fixture itself: collapsed samples are precise but miss most of the data, memorised ones
    # cover it; a distribution shift loses precision
    e = {n: dict(zip(reference["metrics"], reference[f"{n}/expected"], strict=True)) for n in reference["names"]}
    assert e["collapsed"]["precision"] == 1.0 and e["collapsed"]["recall"] < 0.1 and e["collapsed"]["density"] > 2
    assert e["shifted"]["precision"] < 0.3 and e["same"]["coverage"] > 0.9


def test_chunked_distances_give_the_same_metrics(reference, monkeypatch):
    real, fake = reference["shifted/real"], reference["shifted/fake"]
    whole = prdc(real, fake, k=5)
    monkeypatch.setattr(prdc_module, "_CHUNK", 7)  # many ragged chunks
    assert prdc(real, fake, k=5) == whole


def test_knn_radii_match_a_sorted_brute_force():
    x = np.random.default_rng(0).normal(size=(40, 3))
    x[5] = x[6]  # a duplicate is another point at distance 0
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    for k in (1, 3):  # |a|^2 + |b|^2 - 2ab loses ~1e-8 near 0 (as sklearn's, which prdc uses)
        np.testing.assert_allclose(knn_radii(x, k), np.sort(d, axis=1)[:, k - 1], atol=1e-6)
    assert knn_radii(x, 1)[5] < 1e-6


def test_identical_sets_are_precise_and_covering():
    x = np.random.default_rng(1).normal(size=(100, 4))
    m = prdc(x, x, k=5)
    assert m["precision"] == 1.0 and m["recall"] == 1.0 and m["coverage"] == 1.0


@pytest.mark.parametrize(("real", "fake", "k", "match"), [
    ((10, 3), (10, 4), 5, "dimensions"),
    ((10, 3), (5, 3), 5, "more than k=5"),
    ((10, 3), (10, 3), 0, "positive integer"),
])
def test_prdc_rejects_bad_input_in_one_line(real, fake, k, match):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=match):
        prdc(rng.normal(size=real), rng.normal(size=fake), k=k)


# ---- Fréchet distance ------------------------------------------------------------------------------------


def _rotation(d: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def test_frechet_distance_closed_form_for_commuting_covariances():
    # S1 = Q diag(a) Q^T, S2 = Q diag(b) Q^T: FD = |mu1 - mu2|^2 + sum (sqrt(a) - sqrt(b))^2
    q = _rotation(5, 0)
    a, b = np.array([1.0, 2.0, 0.5, 3.0, 0.1]), np.array([4.0, 1.0, 0.5, 0.2, 2.0])
    mu1, mu2 = np.arange(5.0), np.arange(5.0) + 0.3
    want = 5 * 0.09 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, q * a @ q.T, mu2, q * b @ q.T) == pytest.approx(want, rel=1e-10)
    assert frechet_distance(mu1, q * a @ q.T, mu1, q * a @ q.T) == pytest.approx(0.0, abs=1e-10)


def test_frechet_distance_matches_scipy_sqrtm_on_small_fixed_data():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(50, 6)), rng.normal(size=(70, 6)) @ rng.normal(size=(6, 6)) + 1.0
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2)  # the textbook FID computation: drop the spurious imaginary part
    want = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(np.real(root))
    assert frechet_distance_features(x, y) == pytest.approx(want, rel=1e-8)
    assert frechet_distance_features(y, x) == pytest.approx(want, rel=1e-8)


def test_frechet_distance_of_large_samples_approaches_the_gaussians_distance():
    rng = np.random.default_rng(4)
    q = _rotation(3, 1)
    a, b = np.array([1.0, 0.25, 2.0]), np.array([0.5, 1.0, 1.0])
    x = rng.normal(size=(200_000, 3)) * np.sqrt(a) @ q.T
    y = rng.normal(size=(200_000, 3)) * np.sqrt(b) @ q.T + np.array([0.5, 0.0, -0.5])
    want = 0.5 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance_features(x, y) == pytest.approx(want, abs=0.01)


def test_frechet_distance_is_real_and_non_negative_for_singular_covariances():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(10, 32)), rng.normal(size=(12, 32))  # fewer samples than dimensions
    fd = frechet_distance_features(x, y)
    assert np.isfinite(fd) and fd > 0
    assert frechet_distance_features(x, x) == pytest.approx(0.0, abs=1e-8)
    with pytest.raises(ValueError, match="dimensions"):
        frechet_distance_features(x, y[:, :5])
