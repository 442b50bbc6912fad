"""On-disk cache of expensive reference arrays: ``.npz`` files, atomic writes, no pickle.

The directory is ``$PINNGEN_CACHE`` or ``~/.cache/pinngen``. A file's name is the solver name plus a hash
of its parameters (canonical JSON), so different parameters never collide and changing the solver's
``version`` parameter invalidates old files. Unreadable or partial files are recomputed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

Arrays = dict[str, np.ndarray]
logger = logging.getLogger(__name__)


def cache_dir() -> Path:
    """``$PINNGEN_CACHE`` if set, else ``~/.cache/pinngen`` (not created here)."""
    return Path(os.environ.get("PINNGEN_CACHE", Path.home() / ".cache" / "pinngen"))


def cache_path(name: str, params: Mapping[str, object]) -> Path:
    """Path of the cache file for solver ``name`` with JSON-serialisable ``params``."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"name must be alphanumeric with underscores, got {name!r}")
    canonical = json.dumps(dict(params), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return cache_dir() / f"{name}-{digest}.npz"


def load_arrays(path: Path) -> Arrays | None:
    """Arrays stored at ``path``, or ``None`` if it is missing or unreadable. Never unpickles."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (temporary file in the same directory, then ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{key: np.asarray(value) for key, value in arrays.items()})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cached(
    name: str, params: Mapping[str, object], compute: Callable[[], Mapping[str, np.ndarray]]
) -> Arrays:
    """Load the arrays for ``(name, params)`` from the cache, or ``compute()`` them and store them.

    A failed write (e.g. a read-only cache directory) is logged and the computed arrays are returned.
    """
    path = cache_path(name, params)
    arrays = load_arrays(path)
    if arrays is None:
        arrays = {key: np.asarray(value) for key, value in compute().items()}
        try:
            save_arrays(path, arrays)
        except OSError as err:  # a read-only cache must not lose a correct result
            logger.warning("could not cache %s at %s: %s", name, path, err)
    return arrays
