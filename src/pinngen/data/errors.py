"""The one exception the data layer raises for bad files and bad data."""

from __future__ import annotations

import os

__all__ = ["DataError"]


class DataError(ValueError):
    """A data file or array is missing, malformed or inconsistent.

    The message is one line that names the file (when there is one) and the problem, e.g.
    ``train-images-idx3-ubyte.gz: truncated: header says 60000 images of 28x28 = 47040000 bytes, ...``.
    It subclasses ``ValueError`` so callers that already catch bad input keep working.
    """


def where(path: str | os.PathLike[str] | None) -> str:
    """The ``'<path>: '`` prefix of an error message (empty when there is no file)."""
    return f"{os.fspath(path)}: " if path is not None else ""
