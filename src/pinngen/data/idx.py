"""MNIST IDX files: reader and writer, gzip or plain (detected by magic bytes).

The format (LeCun et al., "THE MNIST DATABASE of handwritten digits"): a big-endian header of
4 magic bytes ``00 00 <type> <ndims>`` then ``ndims`` uint32 sizes, then the data in C order.
Images are ``00 00 08 03`` (2051: uint8, 3 dims ``(n, rows, cols)``) and labels ``00 00 08 01``
(2049: uint8, 1 dim ``(n,)``).
"""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np

from ._files import ByteReader
from .errors import DataError

__all__ = ["IDX_IMAGES_MAGIC", "IDX_LABELS_MAGIC", "load_idx_pair", "read_idx", "write_idx"]

IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049

# type code -> big-endian dtype
_TYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {np.dtype(dt).newbyteorder("=").str: code for code, dt in _TYPE_CODES.items()}
_KINDS = {"images": IDX_IMAGES_MAGIC, "labels": IDX_LABELS_MAGIC}


def _describe(magic: int, dims: tuple[int, ...]) -> str:
    """'60000 images of 28x28', '60000 labels' or '5 items of 3x4'."""
    n, rest = dims[0], dims[1:]
    noun = {IDX_IMAGES_MAGIC: "images", IDX_LABELS_MAGIC: "labels"}.get(magic, "items")
    return f"{n} {noun}" + (f" of {'x'.join(map(str, rest))}" if rest else "")


def _magic_str(magic: int) -> str:
    return f"{magic} = {' '.join(f'{b:02x}' for b in magic.to_bytes(4, 'big'))}"


def read_idx(path: str | os.PathLike[str], *, kind: str | None = None) -> np.ndarray:
    """Read one IDX file into a native-endian array of shape ``dims`` from its header.

    Args:
        path: the file, gzip-compressed or plain.
        kind: ``"images"`` to require magic 2051, ``"labels"`` to require 2049, ``None`` for any
            valid IDX file.

    Raises:
        DataError: missing file, bad magic, wrong kind, truncated or over-long data, corrupt gzip.
    """
    if kind is not None and kind not in _KINDS:
        raise ValueError(f"kind={kind!r} is not one of {sorted(_KINDS)} or None")
    name = os.fspath(path)
    with ByteReader(path) as f:
        head = f.read(4)
        if len(head) < 4:
            raise DataError(f"{name}: truncated header: file has {len(head)} bytes, "
                            "an IDX file starts with 4 magic bytes")
        if head[0] != 0 or head[1] != 0 or head[2] not in _TYPE_CODES or head[3] == 0:
            raise DataError(
                f"{name}: not an IDX file: magic bytes {head.hex(' ')}, expected 00 00 <type> <ndims> "
                f"with type in {{{', '.join(f'{c:02x}' for c in _TYPE_CODES)}}} "
                f"(e.g. 00 00 08 03 for images, 00 00 08 01 for labels)"
            )
        magic = int.from_bytes(head, "big")
        if kind is not None and magic != _KINDS[kind]:
            raise DataError(f"{name}: expected IDX {kind} (magic {_magic_str(_KINDS[kind])}), "
                            f"found magic {_magic_str(magic)}")
        dtype, ndim = _TYPE_CODES[head[2]], head[3]
        header_len = 4 + 4 * ndim
        raw_dims = f.read(4 * ndim)
        if len(raw_dims) < 4 * ndim:
            raise DataError(f"{name}: truncated header: {ndim} dimensions need {header_len} bytes, "
                            f"file has {4 + len(raw_dims)}")
        dims = struct.unpack(f">{ndim}I", raw_dims)
        expected = int(np.prod(dims, dtype=object)) * dtype.itemsize
        data = f.read(expected + 1)  # one more byte to detect trailing data
        cut = " (the gzip stream is cut off)" if f.truncated else ""
    what = f"header says {_describe(magic, dims)} = {expected} bytes"
    if len(data) < expected:
        raise DataError(f"{name}: truncated: {what}, file has {len(data)} bytes "
                        f"after the {header_len}-byte header{cut}")
    if len(data) > expected:
        raise DataError(f"{name}: trailing data: {what}, file has more after the {header_len}-byte header")
    if f.truncated:
        raise DataError(f"{name}: truncated gzip stream: all {expected} data bytes are there "
                        "but the gzip end-of-stream marker is missing")
    arr = np.frombuffer(data, dtype=dtype).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=False)  # (dims...) native byte order


def write_idx(path: str | os.PathLike[str], array: np.ndarray, *, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (for fixtures, tests and exporting).

    Args:
        path: destination.
        array: uint8, int8, int16, int32, float32 or float64, 1 to 255 dimensions.
        compress: gzip the file; ``None`` means "when the name ends in .gz".
    """
    arr = np.asarray(array)
    key = arr.dtype.newbyteorder("=").str
    if key not in _CODE_OF_KIND:
        allowed = ", ".join(str(np.dtype(d).newbyteorder("=")) for d in _TYPE_CODES.values())
        raise ValueError(f"array dtype {arr.dtype} cannot be written as IDX; allowed: {allowed}")
    if not 1 <= arr.ndim <= 255:
        raise ValueError(f"array.ndim={arr.ndim} must be between 1 and 255 for IDX")
    if max(arr.shape) >= 2**32:
        raise ValueError(f"array.shape={arr.shape}: IDX sizes must fit in uint32")
    code = _CODE_OF_KIND[key]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = header + np.ascontiguousarray(arr, dtype=_TYPE_CODES[code]).tobytes()
    if compress is None:
        compress = os.fspath(path).endswith(".gz")
    if compress:
        # mtime=0 keeps the bytes reproducible
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
            f.write(payload)
    else:
        with open(path, "wb") as f:
            f.write(payload)


def load_idx_pair(
    images_path: str | os.PathLike[str], labels_path: str | os.PathLike[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Read an images file and its labels file; check they hold the same number of samples.

    Returns:
        ``images`` uint8 ``(n, rows, cols)`` and ``labels`` uint8 ``(n,)``.
    """
    images = read_idx(images_path, kind="images")
    labels = read_idx(labels_path, kind="labels")
    if len(images) != len(labels):
        raise DataError(
            f"{os.fspath(labels_path)}: {len(labels)} labels but {os.fspath(images_path)} "
            f"has {len(images)} images"
        )
    return images, labels
