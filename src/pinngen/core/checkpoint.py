"""Safe checkpoints: arrays in ``.npz`` (loaded with ``allow_pickle=False``) plus JSON, written atomically.

A model is restored into a *template* of the same structure (built from the run's config), so no code or
Python objects are ever deserialised. Leaf count, shapes and dtypes are checked on load.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pinngen.core.io import atomic_write_bytes, atomic_write_json

WEIGHTS = "weights.npz"
SPEC = "spec.json"
TRAIN_STATE = "train_state.npz"
TRAIN_INFO = "train_state.json"


class CheckpointError(ValueError):
    """A checkpoint that does not fit the model it is loaded into."""


def _leaves(tree):
    return [x for x in jax.tree_util.tree_leaves(tree) if isinstance(x, (jax.Array, np.ndarray, np.generic))]


def tree_to_bytes(tree) -> bytes:
    leaves = _leaves(tree)
    buf = io.BytesIO()
    np.savez(buf, **{f"leaf_{i:05d}": np.asarray(x) for i, x in enumerate(leaves)})
    return buf.getvalue()


def tree_from_bytes(template, data: bytes, *, what: str = "checkpoint"):
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = [npz[f"leaf_{i:05d}"] for i in range(len(npz.files))]
    flat, treedef = jax.tree_util.tree_flatten(template)
    slots = [i for i, x in enumerate(flat) if isinstance(x, (jax.Array, np.ndarray, np.generic))]
    if len(slots) != len(arrays):
        raise CheckpointError(f"{what}: has {len(arrays)} arrays, the model expects {len(slots)}; "
                              "was it written by a different configuration?")
    for slot, arr in zip(slots, arrays, strict=True):
        want = flat[slot]
        if tuple(arr.shape) != tuple(want.shape):
            raise CheckpointError(f"{what}: array {slot} has shape {arr.shape}, the model expects {want.shape}")
        flat[slot] = jnp.asarray(arr, dtype=want.dtype)
    return jax.tree_util.tree_unflatten(treedef, flat)


def save_model(directory: str | os.PathLike, model, spec: dict) -> Path:
    """Write ``weights.npz`` and ``spec.json`` (what is needed to rebuild the template) atomically."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(d / WEIGHTS, tree_to_bytes(model))
    atomic_write_json(d / SPEC, spec)
    return d


def load_spec(directory: str | os.PathLike) -> dict:
    p = Path(directory) / SPEC
    if not p.exists():
        raise FileNotFoundError(f"{p}: no model spec; is {directory} a pinngen model folder?")
    return json.loads(p.read_text())


def load_model(directory: str | os.PathLike, template):
    p = Path(directory) / WEIGHTS
    if not p.exists():
        raise FileNotFoundError(f"{p}: no weights; the run may not have finished")
    return tree_from_bytes(template, p.read_bytes(), what=str(p))


def exists(directory) -> bool:
    return (Path(directory) / TRAIN_INFO).exists()


def save_training(directory, params, opt_state, history, info: dict) -> None:
    """Resumable state: parameters, optimizer state, history and loop position. The info JSON is written
    last, so a crash mid-save leaves the previous complete checkpoint in force."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(d / TRAIN_STATE, tree_to_bytes({"params": params, "opt_state": opt_state}))
    history.to_csv(d / "history.csv")
    atomic_write_json(d / TRAIN_INFO, {**info, "history_meta": history.meta})


def load_training(directory, params_template, cfg, history):
    from pinngen.core.history import History
    from pinngen.core.optim import make_optimizer

    d = Path(directory)
    info = json.loads((d / TRAIN_INFO).read_text())
    dtype = next((x.dtype for x in _leaves(params_template)), None)
    opt, _ = make_optimizer(cfg.phases[info["phase"]], dtype)
    template = {"params": params_template, "opt_state": opt.init(params_template)}
    state = tree_from_bytes(template, (d / TRAIN_STATE).read_bytes(), what=str(d / TRAIN_STATE))
    restored = History.from_csv(d / "history.csv")
    restored.meta = {**history.meta, **info.get("history_meta", {})}
    return state["params"], state["opt_state"], restored, info
