"""One chunk's step logs -> History rows (host side, once per chunk)."""

from __future__ import annotations

import math

import numpy as np

from pinngen.core.history import History


def _fin(a, n):
    a = np.asarray(a, dtype=np.float64)[:n]
    return np.where(np.isfinite(a), a, np.inf)  # a recorded non-finite value is +inf: NaN means "not recorded"


def record_chunk(history: History, outs, n_run: int, step0: int, phase: str, seconds: float) -> None:
    """Append the first ``n_run`` steps of ``outs`` as rows ``step0 .. step0 + n_run - 1``.

    Columns: ``loss``, ``lr``, ``grad_norm``, ``loss/<term>`` (NaN where the updater did not evaluate the
    terms), ``loss/<objective>``, ``lr/<objective>``, ``grad_norm/<objective>`` for parameter groups,
    ``weight/<term>`` for scheduled or adaptive weights, traced values, and ``time``.
    """
    if n_run == 0:
        return
    start = history.last("time") if "time" in history else 0.0
    start = 0.0 if math.isnan(start) else start
    cols = {"loss": _fin(outs["total"], n_run), "lr": np.asarray(outs["lr"], np.float64)[:n_run],
            "grad_norm": _fin(outs["grad_norm"], n_run)}
    logged = np.asarray(outs["terms_logged"], bool)[:n_run] if "terms_logged" in outs else None
    for name, values in outs["terms"].items():
        cols[f"loss/{name}"] = _fin(values, n_run) if logged is None else np.where(logged, _fin(values, n_run), np.nan)
    for name, values in outs.get("objectives", {}).items():
        cols[f"loss/{name}"] = _fin(values, n_run)
        cols[f"lr/{name}"] = np.asarray(outs["lrs"][name], np.float64)[:n_run]
        cols[f"grad_norm/{name}"] = _fin(outs["grad_norms"][name], n_run)
    for name, values in outs.get("weights", {}).items():
        cols[f"weight/{name}"] = np.asarray(values, np.float64)[:n_run]
    for name, values in outs["trace"].items():
        cols[name if "/" in name else f"trace/{name}"] = np.asarray(values, np.float64)[:n_run]
    cols["time"] = start + seconds * np.arange(1, n_run + 1) / n_run
    history.extend(np.arange(step0, step0 + n_run), phase, cols)
