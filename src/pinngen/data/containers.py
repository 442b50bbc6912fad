"""Small typed containers that the loaders and named datasets return."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .errors import DataError

__all__ = ["ImageData", "LabeledImages", "TableData"]


@dataclass(frozen=True, eq=False)
class ImageData:
    """A labelled image dataset with a train/test split.

    Attributes:
        x_train: ``(n_train, H, W)`` (or ``(n_train, H, W, C)``), uint8 or float.
        y_train: ``(n_train,)`` integer class indices.
        x_test: ``(n_test, H, W[, C])``, same dtype as ``x_train``.
        y_test: ``(n_test,)``.
        classes: class names; ``classes[y]`` names label ``y``.
        source: where the data came from (a path or a description).
        pixel_max: the largest possible pixel value (255 for MNIST, 16 for the 8x8 digits),
            used by :meth:`as_float`.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    source: str
    pixel_max: float = 255.0

    def __post_init__(self) -> None:
        for x, y, part in ((self.x_train, self.y_train, "train"), (self.x_test, self.y_test, "test")):
            if x.ndim not in (3, 4) or y.ndim != 1 or len(x) != len(y):
                raise DataError(f"{self.source}: {part} images {x.shape} and labels {y.shape} do not match")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataError(f"{self.source}: train images {self.x_train.shape[1:]} and test images "
                            f"{self.x_test.shape[1:]} differ in size")

    @property
    def image_shape(self) -> tuple[int, ...]:
        """``(H, W)`` or ``(H, W, C)``."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def as_float(self, dtype: type = np.float32) -> ImageData:
        """A copy with pixels divided by ``pixel_max``, so they lie in [0, 1]."""
        scale = 1.0 / self.pixel_max
        return replace(self, x_train=(self.x_train * scale).astype(dtype),
                       x_test=(self.x_test * scale).astype(dtype), pixel_max=1.0)

    def __repr__(self) -> str:
        return (f"ImageData(train={self.x_train.shape} {self.x_train.dtype}, test={self.x_test.shape}, "
                f"classes={self.n_classes}, source={self.source!r})")


@dataclass(frozen=True, eq=False)
class LabeledImages:
    """Images with labels and no split, e.g. from :func:`pinngen.data.load_image_folder`.

    Attributes:
        x: ``(n, H, W)`` for grayscale or ``(n, H, W, C)`` for colour, uint8.
        y: ``(n,)`` int64 class indices into ``classes``.
        classes: class names (the sub-folder names, sorted).
        source: the root folder.
    """

    x: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]
    source: str

    def __repr__(self) -> str:
        return (f"LabeledImages(x={self.x.shape} {self.x.dtype}, classes={list(self.classes)}, "
                f"source={self.source!r})")


@dataclass(frozen=True, eq=False)
class TableData:
    """A numeric table split into features and (optionally) a target column.

    Attributes:
        x: ``(n, n_features)`` float64.
        y: ``(n,)`` float64, or ``None`` when no target column was chosen.
        feature_names: one name per column of ``x``.
        target_name: the target column's name, or ``None``.
        source: a path or a description.
    """

    x: np.ndarray
    y: np.ndarray | None
    feature_names: tuple[str, ...]
    target_name: str | None
    source: str

    def __repr__(self) -> str:
        return (f"TableData(x={self.x.shape}, target={self.target_name!r}, "
                f"features={list(self.feature_names)}, source={self.source!r})")
