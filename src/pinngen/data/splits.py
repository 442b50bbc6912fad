"""Seeded, deterministic splits: train/validation/test (optionally stratified by label), a held-out part,
and capped subsets.

Every family splits through these functions, so a seed means the same thing everywhere. ``seed`` is
anything :func:`numpy.random.default_rng` takes (an int, or a sequence such as ``[seed, 7]`` to draw a
second, independent split from the same run seed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .errors import DataError

__all__ = ["Split", "holdout", "split_indices", "subset", "train_val_test_split"]

Seed = int | Sequence[int]


class Split(NamedTuple):
    """Three parts: index arrays, arrays, or tuples of arrays (one per input array)."""

    train: Any
    val: Any
    test: Any


def _check_fraction(name: str, value: float) -> float:
    if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name}={value!r} must be a fraction in [0, 1)")
    return float(value)


def _round(x: float) -> int:
    """Round half up (Python's ``round`` rounds half to even, which surprises in split sizes)."""
    return int(np.floor(x + 0.5))


def _largest_remainder(quotas: np.ndarray, total: int, cap: np.ndarray) -> np.ndarray:
    """Integer counts near ``quotas`` that sum to ``total`` and never exceed ``cap``.

    Floors first, then one more to the largest fractional parts (ties: lowest class index).
    """
    counts = np.minimum(np.floor(quotas).astype(np.int64), cap)
    order = np.argsort(-(quotas - np.floor(quotas)), kind="stable")
    while counts.sum() < total:
        room = [k for k in order if counts[k] < cap[k]]
        if not room:  # pragma: no cover - callers guarantee sum(cap) >= total
            raise DataError(f"cannot place {total} samples in classes of sizes {cap.tolist()}")
        for k in room[: total - counts.sum()]:
            counts[k] += 1
    return counts


def split_indices(
    n: int, *, val: float = 0.1, test: float = 0.1, seed: int, stratify: np.ndarray | None = None
) -> Split:
    """Disjoint index arrays covering ``range(n)``, in a seeded random order.

    Sizes are ``test * n`` and ``val * n`` rounded half up; the rest is train. With ``stratify`` (one label
    per sample) every class is split in the same proportions, as nearly as whole numbers allow, and the
    overall sizes are unchanged.
    """
    val, test = _check_fraction("val", val), _check_fraction("test", test)
    if val + test >= 1.0:
        raise ValueError(f"val + test = {val + test:g} must be below 1 so that something is left to train on")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n={n!r} must be a positive integer")
    n = int(n)
    rng = np.random.default_rng(seed)
    n_test, n_val = _round(test * n), _round(val * n)
    if n - n_test - n_val < 1:
        raise DataError(f"n={n} is too small for val={val:g}, test={test:g}: nothing left to train on")
    if stratify is None:
        perm = rng.permutation(n)
        return Split(perm[n_test + n_val:], perm[n_test:n_test + n_val], perm[:n_test])
    labels = np.asarray(stratify)
    if labels.shape != (n,):
        raise ValueError(f"stratify has shape {labels.shape}, expected ({n},): one label per sample")
    classes, inverse = np.unique(labels, return_inverse=True)
    sizes = np.bincount(inverse, minlength=len(classes))
    test_c = _largest_remainder(test * sizes, n_test, sizes)
    val_c = _largest_remainder(val * sizes, n_val, sizes - test_c)
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == c))
        t, v = test_c[c], val_c[c]
        parts[0].append(members[t + v:])
        parts[1].append(members[t:t + v])
        parts[2].append(members[:t])
    return Split(*(rng.permutation(np.concatenate(p)) for p in parts))


def train_val_test_split(
    *arrays_or_n: Any, val: float = 0.1, test: float = 0.1, seed: int, stratify: np.ndarray | None = None
) -> Split:
    """Split ``n`` indices, or arrays along their first axis, into train/val/test.

    Examples:
        ``train_val_test_split(1000, seed=0)`` -> ``Split`` of index arrays.
        ``train_val_test_split(x, seed=0)`` -> ``Split(x_train, x_val, x_test)``.
        ``(x_tr, y_tr), (x_va, y_va), (x_te, y_te) = train_val_test_split(x, y, stratify=y, seed=0)``.

    Args:
        arrays_or_n: one integer ``n``, or one or more arrays with the same first dimension.
        val: validation fraction in [0, 1).
        test: test fraction in [0, 1); ``val + test < 1``.
        seed: the seed; the same seed always gives the same split.
        stratify: labels ``(n,)`` to keep class proportions equal across the parts.
    """
    if not arrays_or_n:
        raise ValueError("train_val_test_split needs n or at least one array")
    if len(arrays_or_n) == 1 and isinstance(arrays_or_n[0], (int, np.integer)):
        return split_indices(int(arrays_or_n[0]), val=val, test=test, seed=seed, stratify=stratify)
    arrays = [np.asarray(a) if not hasattr(a, "shape") else a for a in arrays_or_n]
    lengths = {a.shape[0] if a.ndim else None for a in arrays}
    if len(lengths) != 1 or None in lengths:
        raise ValueError(f"arrays must share their first dimension, got shapes {[a.shape for a in arrays]}")
    idx = split_indices(lengths.pop(), val=val, test=test, seed=seed, stratify=stratify)
    if len(arrays) == 1:
        return Split(*(arrays[0][i] for i in idx))
    return Split(*(tuple(a[i] for a in arrays) for i in idx))


def _check_count(name: str, value: Any, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name}={value!r} must be a non-negative integer" + (" or None" if allow_none else ""))
    return int(value)


def subset(n: int, limit: int | None, *, seed: Seed) -> np.ndarray:
    """Sorted indices of a seeded random draw of ``limit`` of ``range(n)`` without replacement; all of
    ``range(n)`` when ``limit`` is None or at least ``n`` (e.g. ``max_train``: use at most this many)."""
    n, limit = _check_count("n", n), _check_count("limit", limit, allow_none=True)
    if limit is None or limit >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).permutation(n)[:limit])


def holdout(n: int, fraction: float, *, seed: Seed, min_size: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(kept, held)``: sorted disjoint indices covering ``range(n)``, ``held`` a seeded random
    ``fraction`` of them (rounded half up, at least ``min_size``), e.g. a validation set.

    Raises DataError when nothing would be kept.
    """
    n, min_size = _check_count("n", n), _check_count("min_size", min_size)
    fraction = _check_fraction("fraction", fraction)
    n_held = max(_round(fraction * n), min_size)
    if n_held >= n and n_held > 0:
        raise DataError(f"n={n} is too small to hold out {n_held} (fraction={fraction:g}, min_size={min_size}) "
                        "and keep any")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_held:]), np.sort(perm[:n_held])
