"""Feature scalers with exact inverses and a JSON form, so a run folder can store them.

Statistics are reduced over a leading block of axes: ``axis=0`` (default) gives one statistic per
feature of ``(n, features)`` data, ``axis=(0, 1, 2)`` one per channel of ``(n, H, W, C)`` images, and
``axis=None`` a single global one. They broadcast against the trailing axes, so a single sample
``(features,)`` transforms as well as a batch.

NumPy inputs are computed in float64 and returned as float32 (integer inputs) or their own float dtype;
other array types (e.g. JAX arrays inside a jitted function) are computed in their own dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DataError

__all__ = ["SCALERS", "MinMaxScaler", "StandardScaler", "scaler_from_dict"]

Axis = int | tuple[int, ...] | None


def _check_axis(axis: Axis) -> tuple[int, ...] | None:
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if axes != tuple(range(len(axes))) or not axes:
        raise ValueError(f"axis={axis!r} must be None or a leading block of axes: 0, (0, 1), (0, 1, 2), ...")
    return axes


def _is_numpy(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic, list, tuple, int, float))


def _as_float64(x: Any) -> tuple[np.ndarray, np.dtype]:
    """``x`` as float64 and the dtype to return: its own float dtype, or float32 for integers."""
    a = np.asarray(x)
    out = a.dtype if np.issubdtype(a.dtype, np.floating) else np.dtype(np.float32)
    return a.astype(np.float64), out


class _Scaler:
    """Shared plumbing: fitting checks, dtype handling, (de)serialisation of named statistics."""

    _stats: tuple[str, ...] = ()

    def __init__(self, *, axis: Axis = 0) -> None:
        self.axis = _check_axis(axis)

    @property
    def fitted(self) -> bool:
        return all(getattr(self, s, None) is not None for s in self._stats)

    def _data(self, x: Any) -> np.ndarray:
        a = np.asarray(x, dtype=np.float64)
        if a.size == 0:
            raise DataError(f"{type(self).__name__}.fit: empty data {a.shape}")
        if self.axis is not None and a.ndim < len(self.axis):
            raise ValueError(f"{type(self).__name__}(axis={self.axis}) needs data with at least "
                             f"{len(self.axis)} dimensions, got shape {a.shape}")
        if not np.isfinite(a).all():
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
            raise DataError(f"{type(self).__name__}.fit: non-finite value {a[bad]} at index {bad}")
        return a

    def _apply(self, x: Any, fn) -> Any:
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit(x) first")
        stats = [getattr(self, s) for s in self._stats]
        if _is_numpy(x):
            a, out = _as_float64(x)
            return fn(a, *stats).astype(out)
        return fn(x, *(s.astype(x.dtype) for s in stats))  # e.g. a JAX array: stay in its dtype

    def fit_transform(self, x: Any) -> Any:
        return self.fit(x).transform(x)

    def fit(self, x: Any) -> _Scaler:  # pragma: no cover - overridden
        raise NotImplementedError

    def transform(self, x: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _config(self) -> dict[str, Any]:
        return {}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (type, settings and fitted statistics as nested lists)."""
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted; nothing to save")
        return {
            "type": type(self).__name__,
            "axis": None if self.axis is None else list(self.axis),
            **self._config(),
            **{s: np.asarray(getattr(self, s)).tolist() for s in self._stats},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        """Rebuild a fitted scaler from :meth:`to_dict` output."""
        if d.get("type") != cls.__name__:
            raise ValueError(f"from_dict: type={d.get('type')!r}, expected {cls.__name__!r}")
        missing = [s for s in cls._stats if s not in d]
        if missing:
            raise ValueError(f"from_dict: missing fields {missing} for {cls.__name__}")
        axis = d.get("axis")
        obj = cls(axis=None if axis is None else tuple(axis), **cls._config_from(d))
        for s in cls._stats:
            setattr(obj, s, np.asarray(d[s], dtype=np.float64))
        return obj

    @classmethod
    def _config_from(cls, d: dict[str, Any]) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        state = "fitted" if self.fitted else "not fitted"
        return f"{type(self).__name__}(axis={self.axis}, {state})"


class MinMaxScaler(_Scaler):
    """Map ``[data_min, data_max]`` linearly onto ``feature_range`` (default ``[0, 1]``).

    Give ``data_min`` and ``data_max`` for fixed bounds (e.g. ``0`` and ``255`` for uint8 images, which
    needs no fit); otherwise :meth:`fit` takes them from the data. A constant column has zero range; it is
    treated as range 1, so it maps to ``feature_range[0]`` and back exactly.
    """

    _stats = ("data_min", "data_max")

    def __init__(
        self,
        *,
        feature_range: tuple[float, float] = (0.0, 1.0),
        axis: Axis = 0,
        data_min: Any = None,
        data_max: Any = None,
    ) -> None:
        super().__init__(axis=axis)
        lo, hi = (float(v) for v in feature_range)
        if not lo < hi:
            raise ValueError(f"feature_range={feature_range!r} must be (low, high) with low < high")
        self.feature_range = (lo, hi)
        if (data_min is None) != (data_max is None):
            raise ValueError("give both data_min and data_max for fixed bounds, or neither to fit them")
        self.fixed = data_min is not None
        self.data_min = None if data_min is None else np.asarray(data_min, dtype=np.float64)
        self.data_max = None if data_max is None else np.asarray(data_max, dtype=np.float64)
        if self.fixed and np.any(self.data_max < self.data_min):
            raise ValueError(f"data_max={data_max!r} is below data_min={data_min!r}")

    def fit(self, x: Any) -> MinMaxScaler:
        """Take per-feature min and max from ``x`` (a no-op with fixed bounds). Returns ``self``."""
        if self.fixed:
            return self
        a = self._data(x)
        self.data_min, self.data_max = a.min(axis=self.axis), a.max(axis=self.axis)
        return self

    def _range(self, lo: Any, hi: Any) -> Any:
        r = hi - lo
        return r + (r == 0)  # zero range -> 1: constant columns map to feature_range[0]

    def transform(self, x: Any) -> Any:
        lo, hi = self.feature_range
        return self._apply(x, lambda a, mn, mx: (a - mn) / self._range(mn, mx) * (hi - lo) + lo)

    def inverse_transform(self, x: Any) -> Any:
        lo, hi = self.feature_range
        return self._apply(x, lambda z, mn, mx: (z - lo) / (hi - lo) * self._range(mn, mx) + mn)

    def _config(self) -> dict[str, Any]:
        return {"feature_range": list(self.feature_range), "fixed": self.fixed}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MinMaxScaler:
        obj = super().from_dict(d)
        obj.fixed = bool(d.get("fixed", False))
        return obj

    @classmethod
    def _config_from(cls, d: dict[str, Any]) -> dict[str, Any]:
        return {"feature_range": tuple(d.get("feature_range", (0.0, 1.0)))}


class StandardScaler(_Scaler):
    """Subtract the mean and divide by the (population, ddof=0) standard deviation.

    A constant column has zero deviation; it is treated as 1, so the column maps to 0 and back exactly.
    """

    _stats = ("mean", "std")

    def __init__(self, *, axis: Axis = 0) -> None:
        super().__init__(axis=axis)
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, x: Any) -> StandardScaler:
        """Take the mean and standard deviation of ``x``. Returns ``self``."""
        a = self._data(x)
        # test constancy exactly: a rounded mean can leave a tiny non-zero std on a constant column
        lo, hi = a.min(axis=self.axis), a.max(axis=self.axis)
        self.mean = np.where(lo == hi, lo, a.mean(axis=self.axis))
        self.std = np.where(lo == hi, 1.0, a.std(axis=self.axis))
        return self

    def transform(self, x: Any) -> Any:
        return self._apply(x, lambda a, m, s: (a - m) / s)

    def inverse_transform(self, x: Any) -> Any:
        return self._apply(x, lambda z, m, s: z * s + m)


SCALERS: dict[str, type[_Scaler]] = {"MinMaxScaler": MinMaxScaler, "StandardScaler": StandardScaler}


def scaler_from_dict(d: dict[str, Any]) -> MinMaxScaler | StandardScaler:
    """Rebuild whichever scaler :meth:`to_dict` described (dispatch on ``d["type"]``)."""
    kind = d.get("type")
    if kind not in SCALERS:
        raise ValueError(f"unknown scaler type {kind!r}; valid: {sorted(SCALERS)}")
    return SCALERS[kind].from_dict(d)  # type: ignore[return-value]
