import math

import numpy as np
import pytest

from pinngen.sequence.baselines import (
    CharNGram,
    dtw_distances,
    euclidean_distances,
    fit_ar,
    nearest_neighbor,
    seasonal_naive,
)


def dtw_loop(a, b, window=None):
    """The textbook O(n m) recurrence, one pair at a time."""
    n, m = len(a), len(b)
    w = max(n, m) if window is None else window
    d = [[math.inf] * (m + 1) for _ in range(n + 1)]
    d[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if abs(i - j) <= w:
                d[i][j] = (a[i - 1] - b[j - 1]) ** 2 + min(d[i - 1][j - 1], d[i - 1][j], d[i][j - 1])
    return math.sqrt(d[n][m])


@pytest.mark.parametrize("window", [None, 0, 1, 3])
def test_dtw_matches_python_loop(window):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 9)), rng.normal(size=(3, 7))
    got = dtw_distances(a, b, window=window)
    want = np.array([[dtw_loop(x.tolist(), y.tolist(), window) for y in b] for x in a])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_dtw_chunks_and_known_cases():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(7, 12)), rng.normal(size=(5, 12))
    np.testing.assert_allclose(dtw_distances(a, b, max_cells=1), dtw_distances(a, b))  # one row per chunk
    np.testing.assert_allclose(dtw_distances(a, b, window=0), euclidean_distances(a, b), rtol=1e-12)
    # a shifted copy aligns perfectly under warping, not under Euclidean
    x = np.array([[0.0, 0.0, 1.0, 2.0, 1.0, 0.0]])
    y = np.array([[0.0, 1.0, 2.0, 1.0, 0.0, 0.0]])
    assert dtw_distances(x, y)[0, 0] == 0.0
    assert euclidean_distances(x, y)[0, 0] == pytest.approx(math.sqrt(4.0))


def test_nearest_neighbor_labels_and_errors():
    train = np.array([[0.0, 0.0], [5.0, 5.0]])
    labels = np.array(["low", "high"])
    np.testing.assert_array_equal(nearest_neighbor(train, labels, [[1.0, 0.0], [4.0, 6.0]]), ["low", "high"])
    with pytest.raises(ValueError, match="metric='cosine'"):
        nearest_neighbor(train, labels, train, metric="cosine")
    with pytest.raises(ValueError, match="window=-1"):
        dtw_distances(train, train, window=-1)
    with pytest.raises(ValueError, match=r"\(n_series, time\)"):
        euclidean_distances(train[0], train)


def test_seasonal_naive():
    y = np.arange(10.0)
    np.testing.assert_array_equal(seasonal_naive(y, 5, period=3), [7, 8, 9, 7, 8])
    np.testing.assert_array_equal(seasonal_naive(y, 2), [9, 9])
    assert seasonal_naive(np.ones((6, 2)), 4, period=2).shape == (4, 2)
    with pytest.raises(ValueError, match="horizon=0"):
        seasonal_naive(y, 0)


def test_ar_recovers_coefficients_and_predicts_by_hand():
    rng = np.random.default_rng(0)
    y = np.zeros(4000)
    for t in range(2, len(y)):
        y[t] = 1.0 + 0.6 * y[t - 1] - 0.3 * y[t - 2] + 0.1 * rng.normal()
    model = fit_ar(y, 2)
    np.testing.assert_allclose(model.coef, [0.6, -0.3], atol=0.02)
    assert model.intercept == pytest.approx(1.0, abs=0.03)
    c, b = model.coef, model.intercept
    one = model.one_step(y, 3990)
    np.testing.assert_allclose(one, [b + c[0] * y[t - 1] + c[1] * y[t - 2] for t in range(3990, 4000)])
    rec, hist = model.forecast(y[:100], 3), list(y[98:100])
    for k in range(3):
        hist.append(b + c[0] * hist[-1] + c[1] * hist[-2])
        assert rec[k] == pytest.approx(hist[-1])
    with pytest.raises(ValueError, match="p=50"):
        fit_ar(y[:60], 50)


def test_witten_bell_by_hand():
    m = CharNGram(order=2).fit("abab")
    # unigrams: N=4, T=2 -> (2 + 2 * 1/2) / 6; history 'a': N=2, T=1 -> P(b|a) = (2 + 1/2) / 3
    assert m.prob("a", "") == pytest.approx(0.5)
    assert m.prob("b", "a") == pytest.approx(5 / 6)
    assert m.prob("a", "b") == pytest.approx(0.75)
    assert m.nats_per_char("ab") == pytest.approx(-(math.log(0.5) + math.log(5 / 6)) / 2)


def test_ngram_probabilities_sum_to_one():
    text = "the cat sat on the mat; the hat is flat. " * 3
    m = CharNGram(order=4).fit(text)
    for hist in ["", "t", "th", "the", "xyz", "at.", " on"]:
        assert sum(m.prob(c, hist) for c in m.vocab) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"never seen in training: \['Z'\]"):
        m.nats_per_char("Zat")
