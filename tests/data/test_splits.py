import numpy as np
import pytest

from pinngen.data import DataError, holdout, split_indices, subset, train_val_test_split


def test_deterministic_disjoint_and_complete():
    a = split_indices(1000, val=0.15, test=0.2, seed=3)
    b = split_indices(1000, val=0.15, test=0.2, seed=3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert (len(a.train), len(a.val), len(a.test)) == (650, 150, 200)
    everything = np.concatenate(a)
    assert len(np.unique(everything)) == 1000 and everything.min() == 0 and everything.max() == 999
    c = split_indices(1000, val=0.15, test=0.2, seed=4)
    assert not np.array_equal(a.test, c.test)


def test_split_arrays_together():
    x = np.arange(50).reshape(25, 2)
    y = np.arange(25)
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = train_val_test_split(x, y, val=0.2, test=0.2, seed=0)
    assert len(y_tr) == 15 and len(y_va) == 5 and len(y_te) == 5
    np.testing.assert_array_equal(x_tr[:, 0] // 2, y_tr)  # rows stay paired
    tr, va, te = train_val_test_split(y, seed=0, val=0.2, test=0.2)
    np.testing.assert_array_equal(tr, y_tr)
    idx = train_val_test_split(25, seed=0, val=0.2, test=0.2)
    np.testing.assert_array_equal(idx.train, y_tr)


def test_stratified_proportions():
    labels = np.repeat([0, 1, 2], [500, 300, 200])
    s = split_indices(1000, val=0.1, test=0.2, seed=1, stratify=labels)
    assert (len(s.train), len(s.val), len(s.test)) == (700, 100, 200)
    np.testing.assert_array_equal(np.bincount(labels[s.test]), [100, 60, 40])
    np.testing.assert_array_equal(np.bincount(labels[s.val]), [50, 30, 20])
    assert len(np.unique(np.concatenate(s))) == 1000


def test_stratified_uneven_classes_keep_totals():
    labels = np.repeat([0, 1, 2, 3], [7, 5, 3, 2])
    s = split_indices(17, val=0.2, test=0.3, seed=0, stratify=labels)
    assert (len(s.val), len(s.test)) == (3, 5)  # 3.4 -> 3, 5.1 -> 5
    for c, n in enumerate([7, 5, 3, 2]):
        assert abs(np.sum(labels[s.test] == c) - 0.3 * n) < 1
    assert len(np.unique(np.concatenate(s))) == 17


@pytest.mark.parametrize(("val", "test"), [(-0.1, 0.1), (0.1, 1.0), (0.5, 0.5), ("0.1", 0.1)])
def test_fractions_validated(val, test):
    with pytest.raises(ValueError, match="val|test"):
        split_indices(100, val=val, test=test, seed=0)


def test_too_small_and_bad_inputs():
    with pytest.raises(DataError, match="nothing left to train on"):
        split_indices(2, val=0.4, test=0.4, seed=0)
    with pytest.raises(ValueError, match="share their first dimension"):
        train_val_test_split(np.zeros(3), np.zeros(4), seed=0)
    with pytest.raises(ValueError, match="one label per sample"):
        split_indices(10, seed=0, stratify=np.zeros(9))


def test_subset_is_sorted_seeded_and_capped():
    a = subset(100, 10, seed=3)
    assert len(a) == 10 and np.all(np.diff(a) > 0) and a.max() < 100
    np.testing.assert_array_equal(a, subset(100, 10, seed=3))
    assert not np.array_equal(a, subset(100, 10, seed=4))
    np.testing.assert_array_equal(a, np.sort(np.random.default_rng(3).permutation(100)[:10]))
    np.testing.assert_array_equal(subset(5, None, seed=0), np.arange(5))
    np.testing.assert_array_equal(subset(5, 9, seed=0), np.arange(5))
    assert len(subset(5, 0, seed=0)) == 0


def test_holdout_sizes_round_half_up_and_cover_everything():
    kept, held = holdout(25, 0.1, seed=[0, 7])  # 2.5 -> 3
    assert (len(kept), len(held)) == (22, 3) and np.all(np.diff(held) > 0)
    np.testing.assert_array_equal(np.sort(np.concatenate([kept, held])), np.arange(25))
    kept2, held2 = holdout(25, 0.1, seed=[0, 7])
    np.testing.assert_array_equal(held, held2)
    assert len(holdout(5, 0.0, seed=0)[1]) == 0
    assert len(holdout(5, 0.01, seed=0, min_size=1)[1]) == 1


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda s, h: s(-1, 2, seed=0), ValueError, r"n=-1 must be a non-negative integer"),
    (lambda s, h: s(10, 2.5, seed=0), ValueError, r"limit=2.5 must be a non-negative integer or None"),
    (lambda s, h: h(10, 1.0, seed=0), ValueError, r"fraction=1.0 must be a fraction in \[0, 1\)"),
    (lambda s, h: h(10, 0.1, seed=0, min_size=-1), ValueError, r"min_size=-1"),
    (lambda s, h: h(1, 0.5, seed=0), DataError, r"n=1 is too small to hold out 1"),
])
def test_subset_and_holdout_validate(call, error, match):
    with pytest.raises(error, match=match):
        call(subset, holdout)
