"""Inference over many samples in fixed-size slices: one compile, bounded memory, any family.

:func:`batched_apply` runs ``fn`` on slices of ``batch_size`` rows. The last slice is padded to the full
size (with copies of its last row, always a valid input), so a jitted ``fn`` compiles once for every
slice; the padded rows' outputs are dropped. ``fn`` must treat rows independently (no batch statistics),
which every model's inference here does.

Pass the model through ``args`` and a module-level function as ``fn``: the jitted ``fn`` is cached per
function, and the model's arrays are traced, so later calls with the same shapes reuse the compile (a
lambda made per call would recompile every time)::

    y = batched_apply(call_model, points, args=(model,), batch_size=16384)   # model(points), (n, n_out)
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["batched_apply", "call_model"]

_JITTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def call_model(model, x):
    """``model(x)``: the ``fn`` of :func:`batched_apply` when inference is the model's own call."""
    return model(x)


def _jitted(fn: Callable) -> Callable:
    try:
        return _JITTED[fn]
    except KeyError:
        pass
    except TypeError:  # not weak-referenceable: jit without caching
        return eqx.filter_jit(fn)
    _JITTED[fn] = out = eqx.filter_jit(fn)
    return out


def _rows(out, b: int, m: int):
    def take(a):
        a = np.asarray(a)
        if a.ndim == 0 or a.shape[0] != b:
            raise ValueError(f"fn returned an array of shape {a.shape} for a slice of {b} rows; batched_apply "
                             "needs outputs with the rows as their first axis")
        return a[:m]

    return jax.tree_util.tree_map(take, out)


def batched_apply(fn: Callable, x, *, batch_size: int, args: Sequence[Any] = (), pad: bool = True,
                  key: jax.Array | None = None, dtype=None) -> Any:
    """``fn(*args, x_slice)`` over ``x`` ``(n, ...)`` in slices of ``batch_size`` rows, concatenated.

    Args:
        fn: ``(*args, x_slice) -> array (b, ...)`` or a pytree of them; with ``key``,
            ``(*args, x_slice, key_slice) -> ...`` where ``key_slice = fold_in(key, slice_index)``.
            Jitted here (``eqx.filter_jit``), once per function.
        x: ``(n, ...)`` inputs, host or device.
        batch_size: rows per slice (``min(batch_size, n)`` when fewer rows are given, so a small input is
            not padded up to a large slice).
        args: passed to ``fn`` before the slice, unchanged (e.g. the model).
        pad: pad the last slice to the full size (one compile); False runs it at its own size.
        key: per-slice randomness, reproducible for the same ``batch_size``.
        dtype: dtype of the slices sent to ``fn`` (default: ``x``'s own).

    Returns:
        NumPy arrays ``(n, ...)`` in the structure ``fn`` returns.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} must be a positive integer")
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("x is a scalar; batched_apply needs (n, ...) with the rows first")
    jitted = _jitted(fn)
    n = len(x)
    b = min(int(batch_size), max(n, 1))
    outs = []
    for i, start in enumerate(range(0, max(n, 1), b)):
        part = x[start:start + b]
        m = len(part)
        if pad and 0 < m < b:
            part = np.concatenate([part, np.repeat(part[-1:], b - m, axis=0)])
        extra = () if key is None else (jax.random.fold_in(key, i),)
        outs.append((jitted(*args, jnp.asarray(part, dtype), *extra), len(part), m))
    parts = [_rows(out, size, m) for out, size, m in outs]
    return jax.tree_util.tree_map(lambda *p: np.concatenate(p), *parts)
