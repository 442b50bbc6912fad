"""A user's own PDE from the CLI: ``problem: my_pde.py:make_problem`` and observations from a file.

``problem`` names a Python file and a factory in it (``path.py:function``; the path is relative to the
working directory). The factory takes keyword options (``options:`` in the config, ``--set options.k=v``)
and returns a :class:`pinngen.pinn.problem.Problem` built from the library's geometry and conditions. A run
records the file's absolute path and its SHA-256 and keeps a copy beside the checkpoint for the record; a
saved run is loaded again from the file at that path (the copy is never executed), and a file that has
changed since the run is a one-line error.

Observations for inverse problems (``observations: {path: obs.csv}``) are a CSV with a header (or a .npy /
.npz table) whose columns are named after the problem's inputs and outputs; they become one more data term
of the loss, like the library's :class:`~pinngen.pinn.conditions.Observations`.

Every failure is a one-line :class:`~pinngen.config.ConfigError` that names the file (and, when the factory
raises, the line in the user's file) and the fix.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import traceback
import warnings
from pathlib import Path

import numpy as np

from pinngen.config import ConfigError
from pinngen.data.loaders import load_numpy


def is_file_problem(name: str) -> bool:
    """``True`` for ``path.py:function`` (a user's problem), ``False`` for a library name."""
    path, sep, fn = str(name).rpartition(":")
    return bool(sep) and path.endswith(".py") and fn.isidentifier()


def split(name: str) -> tuple[Path, str]:
    path, _, fn = str(name).rpartition(":")
    return Path(path).expanduser(), fn


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load_module(path: Path):
    if not path.is_file():
        raise ConfigError(f"config error: problem: {path}: no such file; give the path of your problem's Python "
                          f"file, relative to the working directory, as problem: my_pde.py:make_problem")
    name = f"pinngen_user_problem_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # the user's code failed: name its line, keep it to one line
        raise ConfigError(f"config error: problem: {path}: importing it failed{_where(err, path)}: "
                          f"{type(err).__name__}: {err}") from None
    return module


def _where(err: BaseException, path: Path) -> str:
    """`` at line N`` of the deepest frame in the user's file (or a syntax error's line)."""
    if isinstance(err, SyntaxError) and err.lineno:
        return f" at line {err.lineno}"
    line = None
    for frame in traceback.extract_tb(err.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno
    return f" at line {line}" if line else ""


def factory(name: str):
    """The factory function named by ``path.py:function``."""
    path, fn = split(name)
    module = _load_module(path)
    f = getattr(module, fn, None)
    if f is None or not callable(f):
        found = sorted(k for k, v in vars(module).items() if inspect.isfunction(v) and v.__module__ == module.__name__)
        raise ConfigError(f"config error: problem: {path} defines no function {fn!r}; its functions are: "
                          f"{', '.join(found) or 'none'}; name the one that returns the Problem after the colon")
    return path, f


def build(name: str, options: dict, *, sha256: str | None = None):
    """Build the user's problem; ``sha256``: refuse a file that changed since the run recorded it."""
    from pinngen.pinn.problem import Problem

    path, f = factory(name)
    if sha256 is not None and digest(path) != sha256:
        raise ConfigError(f"config error: problem: {path} has changed since this run was trained (its SHA-256 "
                          f"differs); restore it (the run folder keeps a copy, problem_source.py)")
    sig = inspect.signature(f)
    takes_any = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    valid = [k for k, p in sig.parameters.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    bad = sorted(set(options) - set(valid)) if not takes_any else []
    if bad:
        raise ConfigError(f"config error: options: {path}:{f.__name__} takes no option(s) {bad}; its options are: "
                          f"{', '.join(valid) or 'none'}")
    try:
        problem = f(**options)
    except Exception as err:
        raise ConfigError(f"config error: problem: {path}:{f.__name__} raised{_where(err, path)}: "
                          f"{type(err).__name__}: {err}") from None
    if not isinstance(problem, Problem):
        raise ConfigError(f"config error: problem: {path}:{f.__name__} returned a {type(problem).__name__}, not a "
                          f"pinngen.pinn.Problem; return Problem(name=..., inputs=..., outputs=..., geometry=..., "
                          f"residual=..., conditions=[...])")
    return problem


# ---- observations from a file ------------------------------------------------------------------------


def read_table(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Column names and a float table from a CSV with a header row, a .npz (one array per column) or a .npy
    structured array."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"config error: observations.path: {p}: no such file; give a CSV with a header row "
                          f"naming the problem's inputs and outputs")
    try:
        if p.suffix == ".npz":
            z = load_numpy(p)
            if not isinstance(z, dict):
                raise ValueError("a single array, not an .npz archive")
            names = list(z)
            cols = [np.asarray(z[k], dtype=np.float64).reshape(-1) for k in names]
            if len({len(c) for c in cols}) > 1:
                raise ConfigError(f"config error: observations.path: {p}: arrays have different lengths "
                                  f"{[len(c) for c in cols]}; give one value per observation in every column")
            return names, np.stack(cols, axis=1) if cols else np.zeros((0, 0))
        if p.suffix == ".npy":
            a = load_numpy(p)
            if not isinstance(a, np.ndarray) or a.dtype.names is None:
                raise ConfigError(f"config error: observations.path: {p}: a plain array has no column names; "
                                  f"use a CSV with a header row, a .npz with one array per column, or a "
                                  f"structured .npy")
            return list(a.dtype.names), np.stack([np.asarray(a[k], np.float64) for k in a.dtype.names], axis=1)
        with open(p, encoding="utf-8") as fh:
            header = fh.readline()
        names = [h.strip().strip('"') for h in header.strip().split(",")]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty table is reported below, in one line
            table = np.loadtxt(p, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)
    except ConfigError:
        raise
    except (ValueError, OSError, UnicodeDecodeError) as err:
        err = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"config error: observations.path: {p}: cannot read it as a table ({err}); give a CSV "
                          f"with a header row and numbers below it") from None
    if table.size and table.shape[1] != len(names):
        raise ConfigError(f"config error: observations.path: {p}: the header names {len(names)} columns but rows "
                          f"have {table.shape[1]}; make them agree")
    return names, table


def observations(problem, path: str | Path, *, name: str = "observations", noise: float = 0.0, seed: int = 0):
    """An :class:`~pinngen.pinn.conditions.Observations` term from a table whose columns name the problem's
    inputs and (some of) its outputs, bound to ``problem`` and added to its conditions."""
    from pinngen.pinn.conditions import Observations, add_noise

    names, table = read_table(path)
    missing = [k for k in problem.inputs if k not in names]
    if missing:
        raise ConfigError(f"config error: observations.path: {path}: no column for input(s) {missing}; the columns "
                          f"are {names}; name one column per input {list(problem.inputs)}")
    outs = [k for k in problem.outputs if k in names]
    if not outs:
        raise ConfigError(f"config error: observations.path: {path}: no column names an output of the problem "
                          f"{list(problem.outputs)}; the columns are {names}")
    extra = sorted(set(names) - set(problem.inputs) - set(outs))
    if extra:
        raise ConfigError(f"config error: observations.path: {path}: unknown column(s) {extra}; columns must name "
                          f"the problem's inputs {list(problem.inputs)} and outputs {list(problem.outputs)}")
    if len(table) == 0:
        raise ConfigError(f"config error: observations.path: {path}: no rows; give at least one observation")
    bad = np.flatnonzero(~np.all(np.isfinite(table), axis=1))
    if bad.size:
        raise ConfigError(f"config error: observations.path: {path}: row {int(bad[0]) + 2} (and {bad.size - 1} more) "
                          f"holds NaN or inf; remove or fill those rows")
    points = table[:, [names.index(k) for k in problem.inputs]]
    values = table[:, [names.index(k) for k in outs]]
    if noise:
        values = add_noise(values, noise, seed=seed)
    if name in {c.name for c in problem.conditions}:
        raise ConfigError(f"config error: observations.name: {name!r} is already a condition of the problem; "
                          f"choose another name")
    cond = Observations(name, points=points, values=values, component=outs)
    try:
        cond.bind(problem)
    except ValueError as err:
        raise ConfigError(f"config error: observations.path: {path}: {err}; keep every observation inside the "
                          f"problem's domain") from None
    problem.conditions = (*problem.conditions, cond)
    return cond


__all__ = ["build", "digest", "is_file_problem", "observations", "read_table", "split"]
