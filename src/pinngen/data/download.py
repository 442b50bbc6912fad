"""Checked downloads: stream to a temporary file, verify SHA-256, then move into place atomically."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .errors import DataError

__all__ = ["download", "sha256sum"]

log = logging.getLogger(__name__)

_SCHEMES = ("http", "https", "file")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def sha256sum(path: str | os.PathLike[str], *, chunk: int = 1 << 20) -> str:
    """The file's SHA-256 as 64 lowercase hex digits."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def download(
    url: str, dest: str | os.PathLike[str], *, sha256: str, timeout: float = 60.0, chunk: int = 1 << 20
) -> Path:
    """Fetch ``url`` to ``dest`` unless ``dest`` already holds the expected bytes.

    The body streams into a temporary file beside ``dest`` while being hashed; only a matching hash is
    moved into place (``os.replace``, atomic on one filesystem), so ``dest`` is never half-written.

    Args:
        url: an ``http``, ``https`` or ``file`` URL.
        dest: the destination file; parent folders are created.
        sha256: the expected SHA-256, 64 hex digits.
        timeout: seconds to wait for the server.

    Returns:
        ``dest`` as a ``Path``.

    Raises:
        DataError: the download failed, or its hash differs (both hashes are named).
    """
    expected = sha256.strip().lower()
    if not _HEX64.fullmatch(expected):
        raise ValueError(f"sha256={sha256!r} must be 64 hexadecimal digits")
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in _SCHEMES:
        raise ValueError(f"url scheme {scheme!r} in {url!r} is not one of {list(_SCHEMES)}")
    dest = Path(dest)
    if dest.is_file():
        if sha256sum(dest) == expected:
            log.info("download: %s is already present with the expected hash", dest)
            return dest
        log.warning("download: %s exists with a different hash; downloading again", dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:  # scheme checked above
                    while block := resp.read(chunk):
                        h.update(block)
                        out.write(block)
            except (urllib.error.URLError, OSError) as e:
                raise DataError(f"{url}: download failed: {e}") from e
        actual = h.hexdigest()
        if actual != expected:
            raise DataError(f"{url}: SHA-256 mismatch: expected {expected}, got {actual}; "
                            f"{dest} left unchanged")
        os.replace(tmp, dest)
        log.info("download: %s -> %s", url, dest)
        return dest
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
