"""The config's floating-point precision by name: ``"float32"`` (default) or ``"float64"``.

A run's ``dtype`` is a name in its config and spec; this is the one place that turns it into a NumPy or
JAX dtype, so every family agrees on the choices and on the error. float64 arrays also need
``jax_enable_x64`` (``pinngen.runs.precision`` sets it for the duration of a run), or JAX quietly keeps
float32.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

__all__ = ["DEFAULT", "DTYPES", "jnp_dtype", "np_dtype"]

DEFAULT = "float32"
DTYPES: dict[str, type[np.floating]] = {"float32": np.float32, "float64": np.float64}


def _resolve(name: str | None) -> str:
    # None: a spec saved before the dtype was recorded, which was then always float32
    name = DEFAULT if name is None else name
    if name not in DTYPES:
        raise ValueError(f"dtype={name!r}; choose one of {sorted(DTYPES)}")
    return name


def np_dtype(name: str | None) -> type[np.floating]:
    """``np.float32`` or ``np.float64`` for a dtype name (None: the default, float32)."""
    return DTYPES[_resolve(name)]


def jnp_dtype(name: str | None):
    """``jnp.float32`` or ``jnp.float64`` for a dtype name (None: the default, float32)."""
    return jnp.float64 if _resolve(name) == "float64" else jnp.float32
