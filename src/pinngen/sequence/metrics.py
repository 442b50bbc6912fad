"""Forecast and classification scores: MASE, sMAPE, RMSE, accuracy, confusion matrix.

Forecast scores average over every element of ``(horizon,)``, ``(horizon, features)`` or
``(windows, horizon, features)`` arrays; truth and forecast must have the same shape.
"""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "confusion_matrix", "mase", "rmse", "smape"]


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if t.shape != p.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has {p.shape}; pass arrays of the same shape")
    if t.size == 0:
        raise ValueError("empty arrays: nothing to score")
    return t, p


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error, in the units of the series."""
    t, p = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def smape(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Symmetric MAPE in percent, 0..200: mean of 200 |y - f| / (|y| + |f|) (M4 competition definition).

    A point where truth and forecast are both zero counts as a perfect forecast (0) instead of 0/0.
    """
    t, p = _pair(y_true, y_pred)
    den = np.abs(t) + np.abs(p)
    ratio = np.divide(2.0 * np.abs(t - p), den, out=np.zeros_like(den), where=den > 0)
    return float(100.0 * ratio.mean())


def mase(y_true: np.ndarray, y_pred: np.ndarray, y_train: np.ndarray, *, m: int = 1) -> float:
    """Mean absolute scaled error (Hyndman & Koehler 2006): MAE of the forecast over the in-sample MAE of
    the seasonal naive forecast of period ``m`` on ``y_train``, i.e. mean |y[t] - y[t-m]| over the training
    part. ``m=1`` scales by the one-step naive forecast (the M4 convention for non-seasonal scaling).

    ``y_train`` is ``(time,)`` or ``(time, features)``; one scale is taken over all its features.
    """
    t, p = _pair(y_true, y_pred)
    tr = np.asarray(y_train, dtype=np.float64)
    if m < 1 or len(tr) <= m:
        raise ValueError(f"m={m}: need 1 <= m < len(y_train) = {len(tr)}; pass the seasonal period, or m=1")
    scale = np.mean(np.abs(tr[m:] - tr[:-m]))
    if not scale > 0:
        raise ValueError(f"y_train is constant at lag m={m}, so the naive scale is 0; MASE is undefined")
    return float(np.mean(np.abs(t - p)) / scale)


def _labels(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.ndim != 1 or t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} must be 1-D label arrays of the same length")
    if t.size == 0:
        raise ValueError("empty arrays: nothing to score")
    return t, p


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of labels predicted exactly."""
    t, p = _labels(y_true, y_pred)
    return float(np.mean(t == p))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, *, labels: np.ndarray | None = None,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Counts ``(k, k)`` with rows the true class and columns the predicted one, and the ``labels`` order.

    ``labels`` defaults to the sorted union of both arrays; a label outside a given ``labels`` is an error.
    """
    t, p = _labels(y_true, y_pred)
    lab = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    index = {v: i for i, v in enumerate(lab.tolist())}
    missing = sorted({v for v in np.concatenate([t, p]).tolist() if v not in index}, key=str)
    if missing:
        raise ValueError(f"labels {missing[:5]!r} are not in labels={lab.tolist()!r}; add them or pass labels=None")
    out = np.zeros((len(lab), len(lab)), dtype=np.int64)
    np.add.at(out, ([index[v] for v in t.tolist()], [index[v] for v in p.tolist()]), 1)
    return out, lab
