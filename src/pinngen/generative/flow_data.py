"""Data for the ``flow`` kind: 2-D toys with exact densities, a user's table, or images.

* toys (:mod:`pinngen.generative.toys`): a seeded training draw and an independent test draw (another seed);
* a user's table (``array`` with ``data.path``): ``.npy`` ``(n, d)``, ``.npz`` with ``x``, or a numeric ``.csv``
  (header optional; ``data.columns`` picks columns by name or index); a random share is held out as the test set;
* images (a built-in set, a ``folder``, or an ``array`` of images) through
  :func:`pinngen.generative.diffusion_data.load_diffusion_data`.

Model space: vectors standardised per feature with the training split's mean and standard deviation (so
``log p_x(x) = log p_z(z) - sum(log std)``); images as quantised intensities ``(n, H, W, C)`` in [0, 1] (the flow
dequantises them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pinngen.data import DataError, holdout, subset
from pinngen.data.loaders import load_csv
from pinngen.generative import diffusion_data as D
from pinngen.generative import toys as T

IMAGE_SETS = D.IMAGE_SETS
DATASETS = (*T.TOYS, *IMAGE_SETS, "folder", "array")


@dataclass
class FlowData:
    """Train/validation/test parts in model space and what maps them back to the data's units."""

    x_train: np.ndarray
    x_val: np.ndarray
    x_test: np.ndarray
    kind: str  # "vector" or "image"
    shape: tuple[int, ...]  # model-space sample shape: (d,) or (H, W, C)
    data_shape: tuple[int, ...]  # a sample's shape in the data's units: (d,), (H, W) or (H, W, C)
    dataset: str
    source: str
    note: str | None = None
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    def spec(self) -> dict:
        return dict(data_kind=self.kind, shape=list(self.shape), data_shape=list(self.data_shape), dataset=self.dataset,
                    mean=self.mean, std=self.std, columns=self.columns,
                    toy=self.dataset if self.dataset in T.TOYS else None)

    def to_data_units(self, x: np.ndarray) -> np.ndarray:
        return from_model_space(x, self.spec())


def from_model_space(x, spec: dict) -> np.ndarray:
    """Model space -> data units: vectors un-standardised, images reshaped to the data's shape in [0, 1]."""
    x = np.asarray(x, np.float32)
    if spec["data_kind"] == "image":
        return np.clip(x, 0.0, 1.0).reshape((len(x), *spec["data_shape"]))
    return x * np.asarray(spec["std"], np.float32) + np.asarray(spec["mean"], np.float32)


def _table(path: str, columns) -> tuple[np.ndarray, list[str]]:
    """A user's ``(n, d)`` table from .csv (header optional) or .npy/.npz."""
    if _is_csv(path):
        table = load_csv(path, target=None)
        names = list(table.feature_names)
        if all(_is_number(n) for n in names):  # no header: the first row is data
            table = load_csv(path, target=None, header=False)
            names = list(table.feature_names)
        x = table.x
    else:
        x, _ = D._array_source(path)
        names = [f"c{j}" for j in range(x.shape[1])] if x.ndim == 2 else []
    if columns:
        if x.ndim != 2:
            raise DataError(f"{path}: data.columns picks table columns, but the samples have shape {x.shape}")
        idx = [_column(c, names, path) for c in columns]
        x, names = x[:, idx], [names[i] for i in idx]
    return x, names


def _is_csv(path: str) -> bool:
    return Path(path).name.lower().endswith((".csv", ".csv.gz", ".txt"))


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _column(c, names: list[str], path: str) -> int:
    if isinstance(c, int) or (isinstance(c, str) and c.lstrip("-").isdigit() and c not in names):
        i = int(c)
        if not -len(names) <= i < len(names):
            raise DataError(f"{path}: data.columns entry {c} is out of range for {len(names)} columns")
        return i % len(names)
    if c not in names:
        raise DataError(f"{path}: data.columns entry {c!r} is not a column; columns are {names}")
    return names.index(c)


def load_flow_data(dataset: str, *, path: str | None = None, fallback: str | None = None, columns=None,
                   val: float = 0.05, test: float = 0.2, max_train: int | None = None, max_test: int | None = None,
                   toy_points: int = 20000, test_points: int = 5000, seed: int = 0) -> FlowData:
    """Load ``dataset`` into model space (see the module docstring); raises DataError for unusable data."""
    if dataset not in DATASETS:
        raise DataError(f"data.dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    if path is not None and not Path(path).exists():
        raise DataError(f"data.path {path}: no such file or folder")
    names: list[str] = []
    if dataset in T.TOYS:
        x_tr, x_te = T.sample_toy(dataset, toy_points, seed), T.sample_toy(dataset, test_points, seed + 10_000)
        source = f"{dataset} toy ({toy_points} points, seed {seed}; test: an independent draw of {test_points})"
    elif dataset == "array" and path and (_is_csv(path) or columns or D._array_source(path)[0].ndim == 2):
        x, names = _table(path, columns)
        x_tr, x_te, source = *_split(x, test, seed), str(path)
    else:
        return _images(dataset, path, fallback, val, test, max_train, max_test, seed)
    if x_tr.ndim != 2 or x_tr.shape[1] < 2:
        raise DataError(f"{source}: samples of shape {x_tr.shape}; a flow needs a table (n, d) with d >= 2 columns")
    tr, te = subset(len(x_tr), max_train, seed=seed), subset(len(x_te), max_test, seed=seed + 1)
    x_tr, x_te = np.asarray(x_tr, np.float64)[tr], np.asarray(x_te, np.float64)[te]
    keep, held = holdout(len(x_tr), val, seed=[seed, 7], min_size=1 if val > 0 else 0)
    mu, sd = x_tr[keep].mean(0), x_tr[keep].std(0)
    if np.any(sd == 0):
        bad = [names[j] if names else str(j) for j in np.flatnonzero(sd == 0)]
        raise DataError(f"{source}: column(s) {bad} are constant: a density over them is degenerate; drop them "
                        "(data.columns)")

    def std(v):
        return ((v - mu) / sd).astype(np.float32)

    return FlowData(x_train=std(x_tr[keep]), x_val=std(x_tr[held]), x_test=std(x_te), kind="vector",
                    shape=(x_tr.shape[1],), data_shape=(x_tr.shape[1],), dataset=dataset, source=source,
                    mean=mu.tolist(), std=sd.tolist(), columns=names)


def _split(x: np.ndarray, test: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if not np.all(np.isfinite(x)):
        raise DataError("the table holds NaN or inf values; remove or impute them first")
    keep, held = holdout(len(x), test, seed=[seed, 11], min_size=1)
    return x[keep], x[held]


def _images(dataset, path, fallback, val, test, max_train, max_test, seed) -> FlowData:
    d = D.load_diffusion_data(dataset, path=path, fallback=fallback, val=val, test=test, max_train=max_train,
                              max_test=max_test, seed=seed)
    if d.kind != "image":
        raise DataError(f"{d.source}: samples of shape {d.x_train.shape}; give images or a table (n, d)")

    def unit(x):  # model space [-1, 1] -> quantised intensities in [0, 1]
        return ((np.asarray(x, np.float32) + 1.0) / 2.0).clip(0.0, 1.0)

    return FlowData(x_train=unit(d.x_train), x_val=unit(d.x_val), x_test=unit(d.x_test), kind="image",
                    shape=tuple(d.shape), data_shape=tuple(d.data_shape), dataset=d.dataset, source=d.source,
                    note=d.note)
