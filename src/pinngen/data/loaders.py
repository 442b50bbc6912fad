"""Loaders for files a scientist already has: NumPy arrays, CSV tables, folders of images."""

from __future__ import annotations

import csv
import io
import logging
import os
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ._files import read_all
from .containers import LabeledImages, TableData
from .errors import DataError

__all__ = ["IMAGE_EXTENSIONS", "load_csv", "load_image_folder", "load_numpy"]

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
_IMAGE_MODES = ("L", "RGB", "RGBA")


# ---------------------------------------------------------------------------------------------- NumPy

# what numpy's reader raises on a hostile file (its header is a Python literal parsed by ``ast``)
_NUMPY_PARSE_ERRORS = (ValueError, TypeError, SyntaxError, tokenize.TokenError, OSError, EOFError, KeyError,
                       zipfile.BadZipFile, zlib.error, MemoryError, OverflowError, RecursionError,
                       NotImplementedError, RuntimeError)  # zipfile: unsupported method, encrypted member


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines() or [""])[0][:160]


def _check_declared_size(f, size: int, name: str) -> None:
    """Refuse a ``.npy`` stream whose header declares more data than ``size`` bytes can hold, before numpy
    allocates it (a hostile header can declare exabytes)."""
    version = np.lib.format.read_magic(f)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read_header is None:
        return  # numpy itself refuses or handles other versions
    shape, _, dtype = read_header(f)
    count = 1
    for n in shape:
        count *= int(n)
    if count * dtype.itemsize > size:
        raise DataError(f"{name}: the header declares an array of shape {tuple(shape)} ({dtype}) = "
                        f"{count * dtype.itemsize} bytes, but the file holds {size}; it is truncated or corrupt")


def load_numpy(path: str | os.PathLike[str], key: str | None = None) -> np.ndarray | dict[str, np.ndarray]:
    """Load a ``.npy`` or ``.npz`` file (told apart by magic bytes), never unpickling.

    Args:
        path: the file.
        key: for ``.npz``, the array to return; ``None`` returns all arrays as a dict.
            Must be ``None`` for ``.npy``.

    Returns:
        The array (``.npy``, or ``.npz`` with ``key``), else ``{name: array}``.
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise DataError(f"{name}: no such file")
    with open(name, "rb") as f:
        magic = f.read(6)
    try:
        if magic.startswith(_NPY_MAGIC):
            if key is not None:
                raise DataError(f"{name}: key={key!r} given, but this is a .npy file holding one array")
            with open(name, "rb") as f:
                _check_declared_size(f, os.path.getsize(name), name)
            return np.load(name, allow_pickle=False)
        if magic.startswith(_ZIP_MAGIC):
            with np.load(name, allow_pickle=False) as npz:
                members = {i.filename[:-4]: i.file_size for i in npz.zip.infolist() if i.filename.endswith(".npy")}
                wanted = list(npz.files) if key is None else [key]
                if key is not None and key not in npz.files:
                    raise DataError(f"{name}: no array named {key!r}; the file has {sorted(npz.files)}")
                out = {}
                for k in wanted:
                    with npz.zip.open(f"{k}.npy") as member:
                        _check_declared_size(member, members.get(k, 0), f"{name} ({k})")
                    out[k] = npz[k]
                return out if key is None else out[key]
    except DataError:
        raise
    except _NUMPY_PARSE_ERRORS as e:  # a mangled header, bad zip, cut-off data; object arrays need pickle
        raise DataError(f"{name}: not a readable NumPy file ({type(e).__name__}: {_first_line(e)}); write it "
                        f"with numpy.save/savez (no object arrays)") from None
    raise DataError(f"{name}: not a .npy or .npz file (first bytes {magic.hex(' ')})")


# ------------------------------------------------------------------------------------------------ CSV


def _read_rows(path: str | os.PathLike[str], delimiter: str) -> list[tuple[int, list[str]]]:
    """``(line number, fields)`` for every non-blank record (gzip or plain, UTF-8)."""
    try:
        text = read_all(path).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{os.fspath(path)}: cannot read as UTF-8 text: {e}") from e
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as e:
        raise DataError(f"{os.fspath(path)}: line {reader.line_num}: malformed CSV: {e}") from e


def _resolve_target(target: str | int | None, names: list[str], name: str) -> int | None:
    if target is None:
        return None
    if isinstance(target, str):
        if target not in names:
            raise DataError(f"{name}: no target column {target!r}; columns are {names}")
        return names.index(target)
    if not -len(names) <= target < len(names):
        raise DataError(f"{name}: target={target} is out of range for {len(names)} columns")
    return target % len(names)


def _first_bad_cell(path: str, rows: list[tuple[int, list[str]]], names: list[str]) -> DataError:
    """The error for the first cell that is not a finite number."""
    for i, (line, row) in enumerate(rows, start=1):
        for j, cell in enumerate(row):
            here = f"{path}: row {i} (line {line}), column {names[j]!r} (index {j})"
            if not cell.strip():
                return DataError(f"{here}: missing value")
            try:
                v = float(cell)
            except ValueError:
                return DataError(f"{here}: {cell!r} is not a number")
            if not np.isfinite(v):
                return DataError(f"{here}: value {cell.strip()!r} is not finite (NaN or inf)")
    raise AssertionError("no bad cell found")  # pragma: no cover - only called after a failure


def load_csv(
    path: str | os.PathLike[str],
    *,
    target: str | int | None = -1,
    delimiter: str = ",",
    header: bool = True,
) -> TableData:
    """Load a numeric CSV table (gzip or plain) into features and a target column.

    Args:
        path: the file.
        target: the target column, by name or index (default: the last column); ``None`` for no target.
        delimiter: the field separator.
        header: whether the first record holds column names (else columns are ``c0, c1, ...``).

    Returns:
        :class:`TableData` with ``x`` ``(n, n_columns - 1)`` float64 and ``y`` ``(n,)`` float64.

    Raises:
        DataError: ragged rows, non-numeric, missing or non-finite cells; the message names the file,
            the data row (1-based), its line in the file, and the column.
    """
    name = os.fspath(path)
    rows = _read_rows(path, delimiter)
    if header:
        if not rows:
            raise DataError(f"{name}: empty file, expected a header row")
        names = [c.strip() for c in rows[0][1]]
        rows = rows[1:]
    else:
        names = [f"c{j}" for j in range(len(rows[0][1]))] if rows else []
    if not rows:
        raise DataError(f"{name}: no data rows")
    for i, (line, row) in enumerate(rows, start=1):
        if len(row) != len(names):
            raise DataError(f"{name}: row {i} (line {line}) has {len(row)} fields, expected {len(names)}")
    t = _resolve_target(target, names, name)
    try:
        table = np.array([row for _, row in rows], dtype=np.float64)  # (n, n_columns)
    except ValueError:
        raise _first_bad_cell(name, rows, names) from None
    if not np.isfinite(table).all():
        raise _first_bad_cell(name, rows, names)
    keep = [j for j in range(len(names)) if j != t]
    return TableData(
        x=table[:, keep],
        y=None if t is None else table[:, t],
        feature_names=tuple(names[j] for j in keep),
        target_name=None if t is None else names[t],
        source=name,
    )


# --------------------------------------------------------------------------------------------- images


def _open_image(path: Path):
    import struct

    from PIL import Image, UnidentifiedImageError  # pillow comes with matplotlib

    try:
        im = Image.open(path)
        im.load()
        return im
    except Image.DecompressionBombError:
        raise DataError(f"{path}: the image declares more than {2 * Image.MAX_IMAGE_PIXELS:,} pixels (a "
                        "decompression bomb, or far too large to train on); resize it") from None
    # pillow's decoders also raise SyntaxError, ValueError, struct.error, EOFError on a corrupt file
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError) as e:
        msg = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise DataError(f"{path}: cannot read image: {msg}") from None


def load_image_folder(
    root: str | os.PathLike[str],
    *,
    mode: str | None = None,
    extensions: tuple[str, ...] = IMAGE_EXTENSIONS,
) -> LabeledImages:
    """Load ``root/<class>/<image>`` (PNG/JPEG) into one array, class names from the sub-folders.

    Classes and files are sorted by name, so the result is the same on every machine.

    Args:
        root: the folder with one sub-folder per class.
        mode: ``"L"`` (grayscale, ``(n, H, W)``), ``"RGB"`` or ``"RGBA"`` (``(n, H, W, C)``);
            ``None`` picks ``"L"`` when the first image is grayscale, else ``"RGB"``.
        extensions: file suffixes to read (case-insensitive); other files are ignored.

    Raises:
        DataError: no classes or images, an unreadable image, or images of different sizes (the
            message names the offending file and both sizes).
    """
    if mode is not None and mode not in _IMAGE_MODES:
        raise ValueError(f"mode={mode!r} is not one of {list(_IMAGE_MODES)} or None")
    base = Path(root)
    if not base.is_dir():
        raise DataError(f"{base}: no such folder")
    class_dirs = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DataError(f"{base}: no class sub-folders (expected root/<class>/<image>.png)")
    exts = {e.lower() for e in extensions}
    images: list[np.ndarray] = []
    labels: list[int] = []
    ref: tuple[Path, tuple[int, int]] | None = None
    for label, d in enumerate(class_dirs):
        files = sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in exts)
        if not files:
            log.warning("%s: class folder has no images", d)
        for p in files:
            with _open_image(p) as im:
                if ref is None:
                    ref = (p, im.size)
                    mode = mode or ("L" if im.mode in _GRAY_MODES else "RGB")
                elif im.size != ref[1]:
                    (w, h), (rw, rh) = im.size, ref[1]
                    raise DataError(f"{p}: image is {w}x{h} (width x height) but {ref[0]} is {rw}x{rh}; "
                                    "all images must have the same size")
                images.append(np.asarray(im.convert(mode), dtype=np.uint8))
            labels.append(label)
    if not images:
        raise DataError(f"{base}: no images with extensions {sorted(exts)}")
    return LabeledImages(
        x=np.stack(images),  # (n, H, W) or (n, H, W, C)
        y=np.asarray(labels, dtype=np.int64),
        classes=tuple(d.name for d in class_dirs),
        source=str(base),
    )
