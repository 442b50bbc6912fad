import json

import numpy as np
import pytest

from pinngen.data import DataError, MinMaxScaler, StandardScaler, scaler_from_dict


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 5.0, size=(50, 4))
    x[:, 2] = 7.25  # constant column
    return x


@pytest.mark.parametrize("make", [MinMaxScaler, StandardScaler, lambda: MinMaxScaler(feature_range=(-1, 1))])
def test_scalers_invert(table, make):
    s = make().fit(table)
    z = s.transform(table)
    assert np.isfinite(z).all() and z.dtype == np.float64
    np.testing.assert_allclose(s.inverse_transform(z), table, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(s.inverse_transform(z)[:, 2], table[:, 2])  # constant column exactly


def test_minmax_range_and_constant(table):
    z = MinMaxScaler().fit_transform(table)
    np.testing.assert_allclose(z.min(axis=0), [0, 0, 0, 0])
    np.testing.assert_allclose(z.max(axis=0), [1, 1, 0, 1])


def test_standard_moments_and_constant(table):
    z = StandardScaler().fit_transform(table)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), [1, 1, 0, 1], atol=1e-12)


def test_constant_column_with_inexact_mean():
    x = np.full((10, 1), 0.1)  # the float mean of ten 0.1s is not 0.1
    s = StandardScaler().fit(x)
    np.testing.assert_array_equal(s.transform(x), 0.0)


def test_fixed_minmax_for_uint8_images():
    img = np.arange(256, dtype=np.uint8).reshape(16, 4, 4)
    s = MinMaxScaler(data_min=0, data_max=255, axis=None).fit(img[:2])  # fixed: fit changes nothing
    z = s.transform(img)
    assert z.dtype == np.float32 and z.min() == 0 and z.max() == 1
    np.testing.assert_array_equal(np.round(s.inverse_transform(z)).astype(np.uint8), img)


def test_per_channel_and_single_sample():
    x = np.random.default_rng(1).uniform(0, 9, size=(5, 3, 3, 2)).astype(np.float32)
    s = StandardScaler(axis=(0, 1, 2)).fit(x)
    assert s.mean.shape == (2,)
    z = s.transform(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(s.transform(x[0]), z[0], rtol=1e-6)


@pytest.mark.parametrize("make", [lambda: MinMaxScaler(feature_range=(-1, 1)), StandardScaler])
def test_to_dict_json_round_trip(table, make):
    s = make().fit(table)
    d = json.loads(json.dumps(s.to_dict()))
    t = scaler_from_dict(d)
    assert type(t) is type(s)
    np.testing.assert_array_equal(t.transform(table), s.transform(table))
    saved = json.dumps(MinMaxScaler(data_min=0, data_max=255, axis=None).to_dict())
    fixed = scaler_from_dict(json.loads(saved))
    assert fixed.fixed and fixed.transform(np.array([255]))[0] == 1


def test_errors(table):
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(table)
    with pytest.raises(DataError, match="non-finite value nan at index \\(1, 2\\)"):
        t = table.copy()
        t[1, 2] = np.nan
        MinMaxScaler().fit(t)
    with pytest.raises(ValueError, match="leading block of axes"):
        StandardScaler(axis=1)
    with pytest.raises(ValueError, match="both data_min and data_max"):
        MinMaxScaler(data_min=0)
    with pytest.raises(ValueError, match=r"type 'Robust'; valid: \['MinMaxScaler', 'StandardScaler'\]"):
        scaler_from_dict({"type": "Robust"})
