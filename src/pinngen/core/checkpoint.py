"""Safe checkpoints: arrays in ``.npz`` (loaded with ``allow_pickle=False``) plus JSON, written as one unit.

A model is restored into a *template* of the same structure (built from the run's config), so no code or
Python objects are ever deserialised. Leaf count, shapes and dtypes are checked on load.

A training checkpoint is one folder ``ckpt-<step>/`` holding ``arrays.npz`` (parameters, optimizer state
with the L-BFGS memory and counters, EMA, early-stopping best, the current collocation/refresh arrays and
adaptive weights), ``history.csv`` and ``info.json`` (loop position, fingerprints, SHA-256 of the other two
files). It is written to a hidden folder, fsynced and renamed into place (:func:`pinngen.core.io.write_unit`):
the previous checkpoint stays until the new one is complete, and is removed after.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import signal
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pinngen.core.io import write_unit

WEIGHTS = "weights.npz"
EMA = "ema.npz"
SPEC = "spec.json"
UNIT_RE = re.compile(r"^ckpt-(\d+)$")
FORMAT = 2


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: corrupted, truncated, or written for another model or config."""


def _leaves(tree):
    return [x for x in jax.tree_util.tree_leaves(tree) if isinstance(x, (jax.Array, np.ndarray, np.generic))]


def tree_to_bytes(tree) -> bytes:
    leaves = _leaves(tree)
    buf = io.BytesIO()
    np.savez(buf, **{f"leaf_{i:05d}": np.asarray(x) for i, x in enumerate(leaves)})
    return buf.getvalue()


def _fill(template, arrays: list, what: str, *, any_shape: bool = False):
    flat, treedef = jax.tree_util.tree_flatten(template)
    slots = [i for i, x in enumerate(flat) if isinstance(x, (jax.Array, np.ndarray, np.generic))]
    if len(slots) != len(arrays):
        raise CheckpointError(f"{what}: has {len(arrays)} arrays, the model expects {len(slots)}; "
                              "was it written by a different configuration?")
    for slot, arr in zip(slots, arrays, strict=True):
        want = flat[slot]
        if tuple(arr.shape) != tuple(want.shape) and not (any_shape and arr.ndim == np.ndim(want)):
            raise CheckpointError(f"{what}: array {slot} has shape {arr.shape}, the model expects {want.shape}")
        if arr.dtype.kind not in "biufc" or (arr.dtype.kind == "c") != (np.dtype(want.dtype).kind == "c"):
            raise CheckpointError(f"{what}: array {slot} holds {arr.dtype} values, the model expects {want.dtype}; "
                                  "the file is corrupted or was not written by pinngen")
        flat[slot] = jnp.asarray(arr, dtype=want.dtype)
    return jax.tree_util.tree_unflatten(treedef, flat)


def _open_npz(data: bytes, what: str) -> dict[str, np.ndarray]:
    from pinngen.data.loaders import _NUMPY_PARSE_ERRORS, _check_declared_size, _first_line

    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise CheckpointError(f"{what}: a single array, not a checkpoint archive; the file is corrupted")
            sizes = {i.filename: i.file_size for i in npz.zip.infolist()}
            out = {}
            for k in npz.files:
                with npz.zip.open(f"{k}.npy") as member:
                    _check_declared_size(member, sizes.get(f"{k}.npy", 0), f"{what} ({k})")
                out[k] = npz[k]
            return out
    except CheckpointError:
        raise
    except ValueError as err:  # pinngen's DataError from the size check, or numpy's own
        raise CheckpointError(f"{what}: unreadable ({_first_line(err)}); the file is truncated or corrupted") from None
    except _NUMPY_PARSE_ERRORS as err:
        raise CheckpointError(f"{what}: unreadable ({type(err).__name__}: {_first_line(err)}); the file is "
                              "truncated or corrupted") from None


def tree_from_bytes(template, data: bytes, *, what: str = "checkpoint"):
    npz = _open_npz(data, what)
    names = [f"leaf_{i:05d}" for i in range(len(npz))]
    if sorted(npz) != names:
        raise CheckpointError(f"{what}: holds arrays {sorted(npz)[:4]}..., not pinngen's leaf_00000...; the file is "
                              "corrupted or was not written by pinngen")
    return _fill(template, [npz[k] for k in names], what)


def save_model(directory: str | os.PathLike, model, spec: dict, *, ema=None) -> Path:
    """``weights.npz`` (and ``ema.npz``, the averaged weights) with ``spec.json`` (what rebuilds the
    template), written as one unit."""
    if ema is not None:
        spec = {**spec, "ema": True}
    files = {WEIGHTS: tree_to_bytes(model), SPEC: (json.dumps(spec, indent=2) + "\n").encode()}
    if ema is not None:
        files[EMA] = tree_to_bytes(ema)
    return write_unit(directory, files)


def load_spec(directory: str | os.PathLike) -> dict:
    from pinngen.report.rundir import read_json

    p = Path(directory) / SPEC
    if not p.exists():
        raise FileNotFoundError(f"{p}: no model spec; is {directory} a pinngen model folder?")
    spec = read_json(p)
    if not isinstance(spec, dict):
        raise CheckpointError(f"{p}: expected a JSON object describing the model, got {type(spec).__name__}; the "
                              "run folder is corrupted")
    return spec


def load_snapshot(directory: str | os.PathLike, template_of, *, which: str | None = None):
    """``(spec, model)`` from one version of a model folder, even while a run replaces it: the folder is swapped
    by renames (:func:`~pinngen.core.io.write_unit`), so the spec and the weights are read, then the folder's
    identity is checked again and the read is retried if it changed in between. ``template_of(spec)`` builds the
    template; ``which``: "weights", "ema", or None (the EMA when the run kept one, else the weights).

    The folder is held open while it is read: a removed folder's inode number is free for the next one the
    writer makes, so without that a swap to version n+1 and on to n+2 could leave the same inode number at the
    path and pass a spec of version n with the weights of n+2 (seen once in CI)."""
    d = Path(directory)
    for _ in range(20):
        fd = None
        try:
            fd = os.open(d, os.O_RDONLY)
            before = os.fstat(fd).st_ino
            spec = load_spec(_inside(d / SPEC, d, "model").parent)
            name = which or ("ema" if spec.get("ema") else "weights")
            p = _inside(d / (EMA if name == "ema" else WEIGHTS), d, "model")
            data = p.read_bytes()
            same = os.stat(d).st_ino == before
        except FileNotFoundError:
            if not _swapping(d):
                break  # really missing (not caught between the two renames of a swap): the one-line error below
            same = False
        finally:
            if fd is not None:
                os.close(fd)
        if same:
            return spec, tree_from_bytes(template_of(spec), data, what=str(p))
        time.sleep(0.05)
    else:  # 20 reads, each overtaken by a rewrite: a mixed read is not an answer
        raise CheckpointError(f"{d}: the model folder was rewritten during each of 20 reads in a row; read it "
                              "again when the run writes less often (or has finished)")
    spec = load_spec(d)  # a folder that is really missing: the plain reader's one-line error
    return spec, load_model(d, template_of(spec), which=which or ("ema" if spec.get("ema") else "weights"))


def _swapping(d: Path) -> bool:
    return any(d.parent.glob(f".old-{d.name}-*")) or any(d.parent.glob(f".tmp-{d.name}-*"))


def load_model(directory: str | os.PathLike, template, *, which: str = "weights"):
    """The trained weights (``which="weights"``) or their moving average (``"ema"``) in ``template``."""
    p = Path(directory) / (EMA if which == "ema" else WEIGHTS)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no {which}; the run may not have finished" if which == "weights" else
                                f"{p}: this run kept no EMA of its weights (train.ema was not set)")
    return tree_from_bytes(template, p.read_bytes(), what=str(p))


# ---- training checkpoints --------------------------------------------------------------------------------


def units(directory) -> list[Path]:
    """Complete checkpoint folders, oldest first."""
    d = Path(directory)
    if not d.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in d.iterdir()
             if (m := UNIT_RE.match(p.name)) and p.is_dir() and not p.is_symlink()]  # never a link out
    return [p for _, p in sorted(found)]


def _inside(path: Path, root: Path, what: str) -> Path:
    """``path``, refused (one line) when it is a link that leads out of ``root``: a run folder from elsewhere
    must not make pinngen read files outside it."""
    real, base = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    if real != base and base not in real.parents:
        raise CheckpointError(f"{path}: a link to {real}, outside {root}; {what} files must be inside their folder")
    return path


def latest(directory) -> Path | None:
    found = units(directory)
    return found[-1] if found else None


def exists(directory) -> bool:
    if latest(directory) is not None:
        return True
    if (Path(directory) / "train_state.json").exists():
        raise CheckpointError(f"{directory}: a checkpoint in the old format (train_state.json); resume is not "
                              "possible across this upgrade: remove the folder and train again")
    return False


def _crash_point(point: str, count: int) -> None:
    """Fault injection for the kill-and-resume tests: ``PINNGEN_CRASH_AT=<point>:<n>`` kills this process
    with SIGKILL at ``point`` of the n-th checkpoint it writes (points: arrays, history, rename, cleanup)."""
    spec = os.environ.get("PINNGEN_CRASH_AT")
    if spec and spec == f"{point}:{count}":
        os.kill(os.getpid(), signal.SIGKILL)


_written = {"n": 0}


def save_training(directory, step: int, trees: dict, arrays: dict[str, np.ndarray], info: dict, history) -> Path:
    """One resumable unit at ``step``: ``trees`` (restored later into templates), free ``arrays`` and JSON
    ``info``; then older units are removed."""
    _written["n"] += 1
    n = _written["n"]
    d = Path(directory)
    buf = io.BytesIO()
    payload = {}
    for name, tree in trees.items():
        for i, x in enumerate(_leaves(tree)):
            payload[f"t/{name}/{i:05d}"] = np.asarray(x)
    for name, arr in arrays.items():
        payload[f"a/{name}"] = np.asarray(arr)
    np.savez(buf, **payload)
    arrays_bytes = buf.getvalue()
    _crash_point("arrays", n)
    history_bytes = history.to_csv_text().encode()
    _crash_point("history", n)
    meta = {**info, "format": FORMAT, "step": int(step), "history_meta": history.meta,
            "sha256": {"arrays.npz": hashlib.sha256(arrays_bytes).hexdigest(),
                       "history.csv": hashlib.sha256(history_bytes).hexdigest()}}
    files = {"arrays.npz": arrays_bytes, "history.csv": history_bytes,
             "info.json": (json.dumps(meta, indent=1, default=_json_default) + "\n").encode()}
    unit = write_unit(d / f"ckpt-{int(step):09d}", files, before_rename=lambda: _crash_point("rename", n))
    _crash_point("cleanup", n)
    for old in units(d):
        if old != unit:
            shutil.rmtree(old, ignore_errors=True)
    for tmp in d.glob(".tmp-ckpt-*"):
        if not tmp.name.endswith(f"-{os.getpid()}"):
            shutil.rmtree(tmp, ignore_errors=True)
    return unit


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"cannot serialise {type(o).__name__} to JSON")


def load_training(directory, templates, *, any_shape: tuple[str, ...] = ()):
    """``(trees, arrays, info, history)`` of the latest unit; ``templates`` (a dict, or ``info -> dict``)
    give each tree's structure; the trees named in ``any_shape`` keep their saved sizes (a training set that
    a refresh hook redrew with another number of points).
    Raises :class:`CheckpointError` naming the file for a truncated, corrupted or mismatched unit."""
    from pinngen.core.history import History

    unit = latest(directory)
    if unit is None:
        raise CheckpointError(f"{directory}: no checkpoint to resume from")
    try:
        info = json.loads(_inside(unit / "info.json", unit, "checkpoint").read_text())
    except (OSError, ValueError) as err:  # ValueError: bad JSON, or bytes that are not UTF-8
        raise CheckpointError(f"{unit / 'info.json'}: unreadable ({str(err).splitlines()[0][:160]}); the checkpoint "
                              "is corrupted") from None
    if not isinstance(info, dict):
        raise CheckpointError(f"{unit / 'info.json'}: not a checkpoint description (a JSON object); the checkpoint "
                              f"is corrupted: remove {unit} to resume from scratch")
    if info.get("format") != FORMAT:
        raise CheckpointError(f"{unit}: checkpoint format {info.get('format')!r}, this version reads {FORMAT}")
    sums = info.get("sha256")
    if not isinstance(sums, dict) or not all(isinstance(sums.get(n), str) for n in ("arrays.npz", "history.csv")):
        raise CheckpointError(f"{unit / 'info.json'}: no checksums of arrays.npz and history.csv; the checkpoint is "
                              f"corrupted: remove {unit} to resume from scratch")
    raw = {}
    for name in ("arrays.npz", "history.csv"):
        try:
            raw[name] = _inside(unit / name, unit, "checkpoint").read_bytes()
        except OSError as err:
            raise CheckpointError(f"{unit / name}: unreadable ({err})") from None
        if hashlib.sha256(raw[name]).hexdigest() != sums[name]:
            raise CheckpointError(f"{unit / name}: does not match its checksum (truncated or modified); remove "
                                  f"{unit} to resume from scratch")
    npz = _open_npz(raw["arrays.npz"], str(unit / "arrays.npz"))
    if callable(templates):
        try:
            templates = templates(info)
        except CheckpointError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise CheckpointError(f"{unit / 'info.json'}: does not describe this run ({type(err).__name__}: "
                                  f"{str(err)[:120]}); remove {unit} to resume from scratch") from None
    trees = {}
    for name, template in templates.items():
        keys = sorted(k for k in npz if k.startswith(f"t/{name}/"))
        trees[name] = _fill(template, [npz[k] for k in keys], f"{unit / 'arrays.npz'} ({name})",
                            any_shape=name in any_shape)
    arrays = {k[2:]: v for k, v in npz.items() if k.startswith("a/")}
    history = History.from_csv_text(raw["history.csv"].decode(), str(unit / "history.csv"))
    history.meta = info.get("history_meta", {})
    return trees, arrays, info, history
