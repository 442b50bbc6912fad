import gzip

import numpy as np
import pytest

from pinngen.data import DataError
from pinngen.sequence.data import (
    encode_labels,
    fit_scaler,
    gunpoint,
    hamlet,
    italy_power_demand,
    load_series,
    make_windows,
    split_series,
    split_text,
    sunspots,
)


def test_vendored_sets_have_their_published_shapes():
    s = sunspots()
    assert s.values.shape == (3177, 1) and s.names == ("sunspots",)
    assert (str(s.dates[0]), str(s.dates[-1])) == ("1749-01", "2013-09")
    assert (s.values[:3, 0].tolist(), s.values[-1, 0]) == ([58.0, 62.6, 70.0], 37.0)
    g = gunpoint()
    assert (g.x_train.shape, g.x_test.shape, g.classes) == ((50, 150), (150, 150), ("1", "2"))
    assert np.bincount(g.y_train).tolist() == [24, 26] and np.bincount(g.y_test).tolist() == [76, 74]
    i = italy_power_demand()
    assert (i.x_train.shape, i.x_test.shape) == ((67, 24), (1029, 24))
    text = hamlet()
    assert len(text) == 175176 and text.lstrip().startswith("The Tragedy of Hamlet")
    train, val = split_text(text)
    assert (len(train), len(val)) == (157658, 17518)


def write(tmp_path, text, name="s.csv", compress=False):
    p = tmp_path / name
    p.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    return p


def test_load_series_csv_with_dates(tmp_path):
    p = write(tmp_path, "date,a,b\n2001-01-31,1,10\n2001-02-28,2,20\n2001-03-31,3.5,30\n", "s.csv.gz", True)
    s = load_series(p)
    assert s.names == ("a", "b") and s.values.tolist() == [[1, 10], [2, 20], [3.5, 30]]
    assert s.dates.dtype == np.dtype("datetime64[D]")
    s2 = load_series(p, value_columns=["b"])
    assert s2.values.shape == (3, 1)
    hourly = write(tmp_path, "t,x\n2020-01-01 22:00,1\n2020-01-01 23:00,2\n2020-01-02 00:00,3\n", "h.csv")
    assert len(load_series(hourly)) == 3
    no_dates = write(tmp_path, "x\n1\n2\n", "n.csv")
    assert load_series(no_dates, date_column=None).dates is None


def test_load_series_arrays(tmp_path):
    assert load_series(np.arange(5.0)).values.shape == (5, 1)
    np.save(tmp_path / "a.npy", np.ones((4, 3)))
    assert load_series(tmp_path / "a.npy").names == ("x0", "x1", "x2")


@pytest.mark.parametrize("text, match", [
    ("date,x\n2001-01,1\n2001-02,\n2001-03,3\n", r"column 'x' has 1 missing .* row 2 \(2001-02\).*interpolate"),
    ("date,x\n2001-01,1\n2001-02,nan\n", "missing or non-finite"),
    ("date,x\n2001-01,1\n2001-02,2\n2001-05,3\n", r"a gap .* 2001-02 then 2001-05 \(the usual step is 1 month\)"),
    ("date,x\n2001-01-01,1\n2001-01-02,2\n2001-01-04,3\n", "a gap .*step is 1 day.*insert the missing rows"),
    ("date,x\n2001-01-01,1\n2001-01-03,2\n2001-01-04,3\n2001-01-06,4\n", "irregular step"),
    ("date,x\n2001-02,1\n2001-01,2\n", "not increasing.*sort the rows"),
    ("date,x\nMay 2001,1\n", "not an ISO date.*date_column=None"),
    ("date,x\n2001-01,1\n2001-02,abc\n", "'abc' is not a number"),
    ("date,x\n2001-01,1,2\n", "has 3 fields"),
])
def test_load_series_errors_name_the_fix(tmp_path, text, match):
    with pytest.raises(DataError, match=match) as e:
        load_series(write(tmp_path, text))
    assert "\n" not in str(e.value)


def test_load_series_bad_input(tmp_path):
    with pytest.raises(DataError, match="no value column named 'y'"):
        load_series(write(tmp_path, "date,x\n2001,1\n"), value_columns=["y"])
    with pytest.raises(DataError, match=r"shape \(2, 2, 2\)"):
        load_series(np.zeros((2, 2, 2)))
    with pytest.raises(DataError, match="first at time step 1"):
        load_series(np.array([1.0, np.nan]))
    with pytest.raises(DataError, match="no such file"):
        load_series(tmp_path / "missing.csv")


def test_make_windows():
    y = np.arange(10.0)
    x, t = make_windows(y, 3, 2)
    assert x.shape == (6, 3, 1) and t.shape == (6, 2, 1)
    assert x[0, :, 0].tolist() == [0, 1, 2] and t[0, :, 0].tolist() == [3, 4]
    assert t[-1, :, 0].tolist() == [8, 9]
    x2, _ = make_windows(np.stack([y, -y], 1), 4, 1, stride=3)
    assert x2.shape == (2, 4, 2) and x2[1, 0].tolist() == [3, -3]


@pytest.mark.parametrize("kw, match", [
    (dict(lookback=20, horizon=1), "needs at least 21 steps but the series has 10; shorten the lookback"),
    (dict(lookback=3, horizon=0), "horizon=0.*at least one step ahead"),
    (dict(lookback=0, horizon=1), "lookback=0"),
])
def test_make_windows_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        make_windows(np.arange(10.0), **kw)


def test_windows_wrong_dimensions():
    with pytest.raises(ValueError, match=r"shape \(2, 3, 4\)"):
        make_windows(np.zeros((2, 3, 4)), 1, 1)


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_scaler_fits_train_only_and_round_trips(kind):
    rng = np.random.default_rng(0)
    series = np.stack([rng.normal(5, 2, 200), rng.normal(-3, 10, 200)], 1)
    train, test = split_series(series, 50)
    sc = fit_scaler(train, kind)
    z = sc.transform(train)
    if kind == "standard":
        np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
        np.testing.assert_allclose(z.std(0), 1)
    else:
        np.testing.assert_allclose([z.min(0), z.max(0)], [[0, 0], [1, 1]], atol=1e-12)
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(test)), test, rtol=1e-12)
    x, _ = make_windows(series, 10, 5)  # (windows, time, features) broadcast against per-feature stats
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(x)), x, rtol=1e-12)
    with pytest.raises(ValueError, match="valid"):
        fit_scaler(train, "robust")


def test_split_and_labels_errors():
    with pytest.raises(ValueError, match="test=10"):
        split_series(np.arange(10.0), 10)
    y_tr, y_te, classes = encode_labels(["b", "a", "b"], ["a"])
    assert classes == ("a", "b") and y_tr.tolist() == [1, 0, 1] and y_te.tolist() == [0]
    with pytest.raises(DataError, match=r"test labels \['c'\] never occur in training"):
        encode_labels(["a", "b"], ["c"])
