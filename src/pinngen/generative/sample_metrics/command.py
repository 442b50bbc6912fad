"""What ``pinngen evaluate-samples S.npy`` does: read the file, score it, write the metrics JSON.

Kept here so ``pinngen.cli`` only parses arguments and prints; every bad input is a one-line ValueError or
FileNotFoundError, which the CLI turns into exit code 2.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pinngen.core.io import atomic_write_json
from pinngen.data.errors import DataError

from .evaluate import evaluate_samples

__all__ = ["evaluate_sample_file", "read_npy"]


def read_npy(path: str | os.PathLike, what: str) -> np.ndarray:
    """A ``.npy`` array (no pickle), or a one-line error naming ``what`` and the file."""
    p = Path(path)
    if p.suffix != ".npy":
        raise ValueError(f"{what} {path}: give a .npy file (np.save), e.g. from `pinngen sample`")
    if not p.is_file():
        raise FileNotFoundError(f"{what} {path}: file not found")
    from pinngen.data.loaders import load_numpy

    try:
        return load_numpy(p)
    except DataError as err:
        raise DataError(f"{what} {err}") from None


def evaluate_sample_file(path: str | os.PathLike, *, dataset: str = "fashion_mnist",
                         labels: str | os.PathLike | None = None, out: str | os.PathLike | None = None,
                         n: int | None = None, seed: int = 0) -> tuple[dict, Path]:
    """Score the images in ``path`` (see :func:`evaluate_samples`) and write the result as JSON.

    Args:
        labels: a ``.npy`` of the class asked for each sample (class-conditional samples).
        out: the JSON file (default: ``<path without .npy>.metrics.json`` beside the samples).

    Returns:
        ``(result, json_path)``.
    """
    samples = read_npy(path, "samples")
    asked = read_npy(labels, "--labels") if labels is not None else None
    target = Path(out) if out is not None else Path(path).with_suffix(".metrics.json")
    if target.suffix != ".json":
        raise ValueError(f"--out {out}: the metrics are written as JSON; give a path ending in .json")
    result = evaluate_samples(samples, dataset=dataset, n=n, seed=seed, labels=asked)
    result = {"samples_file": str(Path(path).resolve()), **result}
    atomic_write_json(target, result)
    return result, target
