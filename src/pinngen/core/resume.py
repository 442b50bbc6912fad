"""What makes a resumed run identical to an uninterrupted one: fingerprints and the state of host hooks.

A checkpoint records a fingerprint of what the run depends on (the training config, the loss terms, the
parameter shapes, the random key, the data shapes); resuming with anything else is a one-line
:class:`~pinngen.core.checkpoint.CheckpointError` that names what differs, before anything is written.

Host hooks (``refresh``: collocation resampling, RAR/RAD; ``weight_update``: adaptive loss weights) keep
state between calls. A hook that exposes ``state_dict() -> dict`` and ``load_state_dict(dict)`` (values:
JSON scalars, lists, or NumPy arrays) is saved with the checkpoint and restored exactly; one that does not is
rebuilt from scratch on resume, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging

import jax
import numpy as np

from pinngen.core.checkpoint import CheckpointError

log = logging.getLogger(__name__)

# Cadences and display settings change how often the loop stops to look, not what it computes.
NOT_FINGERPRINTED = {"progress", "eval_every", "checkpoint_every", "chunk", "devices"}  # resume on any device count


def fingerprint(train_cfg, names, params, key, data, weights=None) -> dict:
    def shapes(tree):
        return [[list(np.shape(x)), str(np.asarray(x).dtype) if not hasattr(x, "dtype") else str(x.dtype)]
                for x in jax.tree_util.tree_leaves(tree)]

    train = train_cfg.model_dump(mode="json", exclude=NOT_FINGERPRINTED)
    return {"train": train, "terms": list(names), "params": _digest(shapes(params)),
            "key": np.asarray(jax.random.key_data(key) if _is_typed_key(key) else key).tolist(),
            "data": _digest(shapes(data)),
            "weights": {n: float(v) for n, v in sorted((weights or {}).items())}}


def _is_typed_key(key) -> bool:
    return hasattr(key, "dtype") and jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


_WHAT = {"train": "the training config", "terms": "the loss terms", "params": "the model's parameter shapes",
         "key": "the seed / random key", "data": "the training data shapes", "weights": "the loss weights"}


def check_fingerprint(saved: dict, now: dict, where) -> None:
    for part in ("train", "terms", "params", "key", "data", "weights"):
        if saved.get(part) != now[part]:
            detail = first_difference(saved.get(part), now[part]) if part in ("train", "weights") else ""
            raise CheckpointError(f"{where}: the checkpoint was written for different {_WHAT[part]}{detail}; "
                                  "resume with the same settings, or start a new run")


def first_difference(a, b, path="") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if a.get(k) != b.get(k):
                return first_difference(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{path}.{i}")
    return f" ({path}: {a!r} in the checkpoint, {b!r} now)"


def hook_state(name: str, hook) -> tuple[dict, dict[str, np.ndarray]]:
    """``(json part, arrays part)`` of a hook's ``state_dict()``; arrays are keyed ``<name>/<key>``."""
    if hook is None or not hasattr(hook, "state_dict"):
        return {}, {}
    plain, arrays = {}, {}
    for k, v in hook.state_dict().items():
        if isinstance(v, (np.ndarray, jax.Array)):
            arrays[f"{name}/{k}"] = np.asarray(v)
        elif isinstance(v, dict) and v and all(isinstance(x, (np.ndarray, jax.Array)) for x in
                                               jax.tree_util.tree_leaves(v)):
            flat = jax.tree_util.tree_flatten_with_path(v)[0]
            for path, x in flat:
                arrays[f"{name}/{k}{jax.tree_util.keystr(path)}"] = np.asarray(x)
            plain[k] = {"__tree__": _tree_paths(v)}
        else:
            plain[k] = v
    return plain, arrays


def _tree_paths(tree) -> list[str]:
    return [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]


def set_hook_state(name: str, hook, plain: dict, arrays: dict[str, np.ndarray]) -> None:
    if hook is None:
        return
    if not hasattr(hook, "load_state_dict"):
        log.warning("%s has no load_state_dict(): it restarts from scratch on resume, so the resumed run may "
                    "differ from an uninterrupted one", name)
        return
    state = {}
    for k, v in plain.items():
        if isinstance(v, dict) and "__tree__" in v:
            state[k] = _nest({p: arrays[f"{name}/{k}{p}"] for p in v["__tree__"]})
        else:
            state[k] = v
    for key, arr in arrays.items():
        if key.startswith(f"{name}/") and "[" not in key[len(name) + 1:]:
            state[key[len(name) + 1:]] = arr
    hook.load_state_dict(state)


def _nest(flat: dict[str, np.ndarray]) -> dict:
    """``{"['a']['x']": arr}`` -> ``{"a": {"x": arr}}`` (dict trees with string keys, as state dicts use)."""
    out: dict = {}
    for path, arr in flat.items():
        keys = [k.strip("'\"") for k in path.strip("[]").split("][")]
        node = out
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = arr
    return out
