"""A user's labelled series for classification: CSV or NumPy files of variable-length series with one label each.

- CSV (plain or gzip): one series per row, the label in the first column and the values after it (the UCR
  archive's layout). Rows may be shorter than others: trailing empty cells or ``NaN`` are padding, and the
  series' length is its last number. A header row is allowed (detected when its value cells are not numbers).
  A missing value *inside* a series is an error naming the row and the step.
- ``.npz`` with arrays ``x`` ``(n, time)`` or ``(n, time, features)``, ``y`` ``(n,)`` (numbers or strings) and
  optionally ``lengths`` ``(n,)``; without ``lengths`` a ``NaN`` tail marks the padding as in the CSV.

Every loader returns a :class:`SeriesSet`: the series padded with zeros to one length, their ``lengths`` and
their labels as strings. :func:`split_set` makes a seeded stratified train/test split; :func:`encode` turns
the labels of a train and a test set into class indices (a test class unseen in training is an error).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

import numpy as np

from ..data._files import read_text
from ..data.errors import DataError
from ..data.loaders import load_numpy
from ..data.splits import split_indices
from .data import encode_labels

__all__ = ["SeriesSet", "encode", "from_arrays", "load_labelled_series", "split_set", "znormalize"]


@dataclass(frozen=True)
class SeriesSet:
    """Labelled series: ``x`` ``(n, time, features)`` float64 with zeros past each ``lengths[i]`` ``(n,)``, and
    ``labels`` ``(n,)`` strings."""

    x: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray
    source: str = ""

    def __len__(self) -> int:
        return len(self.x)

    @property
    def features(self) -> int:
        return int(self.x.shape[2])

    def take(self, idx) -> SeriesSet:
        idx = np.asarray(idx, dtype=np.int64)
        return SeriesSet(self.x[idx], self.lengths[idx], self.labels[idx], self.source)


def _lengths_from_nan_tail(x: np.ndarray, where: str, rows: list[int] | None = None) -> np.ndarray:
    """``x`` ``(n, time, features)`` with NaN padding at the end -> lengths; NaN before a number is an error."""
    finite = np.isfinite(x).all(axis=2)  # (n, time)
    lengths = np.where(finite.any(1), x.shape[1] - np.argmax(finite[:, ::-1], axis=1), 0)
    for i, n in enumerate(lengths):
        if n == 0:
            raise DataError(f"{where}: row {rows[i] if rows else i + 1} has no values; remove it or fill it in")
        gap = np.flatnonzero(~finite[i, :n])
        if len(gap):
            raise DataError(f"{where}: row {rows[i] if rows else i + 1} has a missing or non-finite value at step "
                            f"{gap[0] + 1} of {n}, inside the series; fill it (e.g. interpolate) - only a "
                            "missing tail (a shorter series) is allowed")
    return lengths.astype(np.int64)


def from_arrays(x, y, lengths=None, *, source: str = "array") -> SeriesSet:
    """A :class:`SeriesSet` from ``x`` ``(n, time)`` or ``(n, time, features)``, labels ``y`` ``(n,)`` and
    optional ``lengths`` ``(n,)`` (default: each series ends at its last number; a NaN tail is padding)."""
    try:
        x = np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{source}: the series are not numbers; pass numeric values") from None
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3 or x.shape[0] == 0 or x.shape[1] == 0 or x.shape[2] == 0:
        raise DataError(f"{source}: series of shape {x.shape}; pass (n, time) for univariate or (n, time, features) "
                        "for multivariate series")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"{source}: labels of shape {y.shape} for {len(x)} series; pass one label per series (n,)")
    if lengths is None:
        lengths = _lengths_from_nan_tail(x, source)
    else:
        lengths = np.asarray(lengths)
        if lengths.shape != (len(x),) or not np.issubdtype(lengths.dtype, np.integer):
            raise DataError(f"{source}: lengths of shape {lengths.shape} and dtype {lengths.dtype}; pass one whole "
                            "number per series")
        if lengths.min() < 1 or lengths.max() > x.shape[1]:
            raise DataError(f"{source}: lengths span {lengths.min()}..{lengths.max()}; each must be between 1 and "
                            f"the padded length {x.shape[1]}")
        valid = np.arange(x.shape[1])[None, :] < lengths[:, None]
        bad = np.argwhere(valid & ~np.isfinite(x).all(axis=2))
        if len(bad):
            raise DataError(f"{source}: series {bad[0][0] + 1} has a missing or non-finite value at step "
                            f"{bad[0][1] + 1} of {lengths[bad[0][0]]}; fill it (e.g. interpolate)")
    lengths = lengths.astype(np.int64)
    valid = np.arange(x.shape[1])[None, :, None] < lengths[:, None, None]
    x = np.where(valid, x, 0.0)[:, :int(lengths.max())]
    labels = np.array([str(v).strip() for v in y.tolist()], dtype=object)
    if any(s == "" for s in labels):
        raise DataError(f"{source}: series {int(np.flatnonzero(labels == '')[0]) + 1} has an empty label")
    return SeriesSet(x, lengths, labels, source)


def _number(cell: str) -> float | None:
    cell = cell.strip()
    if cell == "":
        return float("nan")
    try:
        return float(cell)
    except ValueError:
        return None


def _from_csv(path: str, delimiter: str) -> SeriesSet:
    text = read_text(path)
    rows = [(i, r) for i, r in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1)
            if any(c.strip() for c in r)]
    if rows and any(_number(c) is None for c in rows[0][1][1:]):
        rows = rows[1:]  # a header row: its value cells are names, not numbers
    if not rows:
        raise DataError(f"{path}: no series; write one series per row: the label, then the values")
    width = max(len(r) for _, r in rows)
    if width < 2:
        raise DataError(f"{path}: rows hold only one cell; write the label first, then the series' values")
    x = np.full((len(rows), width - 1), np.nan)  # (n, time)
    for k, (i, r) in enumerate(rows):
        for j, cell in enumerate(r[1:]):
            v = _number(cell)
            if v is None:
                raise DataError(f"{path}: row {i}, column {j + 2}: {cell.strip()!r} is not a number; the first "
                                "column is the label and every other cell a value (or empty at the end)")
            x[k, j] = v
    lengths = _lengths_from_nan_tail(x[:, :, None], path, rows=[i for i, _ in rows])
    return from_arrays(x, [r[0] for _, r in rows], lengths, source=path)


def load_labelled_series(path: str | os.PathLike[str], *, delimiter: str = ",") -> SeriesSet:
    """Labelled series from a CSV (label first, then values; ragged rows allowed) or an ``.npz`` (``x``, ``y``
    and optionally ``lengths``); see the module docstring. Raises :class:`~pinngen.data.DataError` (one line)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file; give a CSV (label, values...) or an .npz with arrays x and y")
    if path.endswith(".npz"):
        z = load_numpy(path)
        if not isinstance(z, dict):
            raise DataError(f"{path}: a single array, not an .npz archive; save x and y with numpy.savez")
        missing = [k for k in ("x", "y") if k not in z]
        if missing:
            raise DataError(f"{path}: no array(s) {missing}; the .npz needs x (n, time[, features]) and y (n,) "
                            f"(it has {sorted(z)})")
        return from_arrays(z["x"], z["y"], z.get("lengths"), source=path)
    if path.endswith((".npy", ".npy.gz")):
        raise DataError(f"{path}: an .npy holds no labels; use an .npz with arrays x and y, or a CSV")
    return _from_csv(path, delimiter)


def split_set(s: SeriesSet, test_fraction: float, seed: int) -> tuple[SeriesSet, SeriesSet]:
    """A seeded split into train and test, stratified by label (each class keeps its share in both parts)."""
    split = split_indices(len(s), val=0.0, test=test_fraction, seed=seed, stratify=s.labels.astype(str))
    if len(split.test) == 0:
        raise DataError(f"{s.source}: test_fraction={test_fraction} of {len(s)} series leaves no test series; "
                        "raise the fraction or give a separate test file")
    return s.take(np.sort(split.train)), s.take(np.sort(split.test))


def encode(train: SeriesSet, test: SeriesSet) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Class indices of the training and test labels and the class names; checks the two sets agree."""
    if train.features != test.features:
        raise DataError(f"{test.source}: series with {test.features} feature(s) but the training series "
                        f"({train.source}) have {train.features}; give both sets the same features")
    try:
        return encode_labels(train.labels, test.labels)
    except DataError as e:
        raise DataError(f"{test.source}: {e}") from None


def znormalize(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each series minus its mean, over its standard deviation, per feature over its valid steps (padding stays
    0). ``x`` ``(n, time, features)``; a constant series is only centred."""
    valid = (np.arange(x.shape[1])[None, :] < np.asarray(lengths)[:, None])[..., None]  # (n, time, 1)
    count = np.maximum(valid.sum(1, keepdims=True), 1)
    mean = np.where(valid, x, 0.0).sum(1, keepdims=True) / count
    std = np.sqrt((np.where(valid, x - mean, 0.0) ** 2).sum(1, keepdims=True) / count)
    return np.where(valid, (x - mean) / np.where(std > 1e-12, std, 1.0), 0.0)
