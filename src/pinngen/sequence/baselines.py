"""Classical baselines computed next to every sequence model: the numbers a network has to beat.

- Forecasting: :func:`seasonal_naive` and an AR(p) model fitted by least squares (:func:`fit_ar`), one step
  ahead on the true history (:meth:`ARModel.one_step`) or recursively over a horizon (:meth:`ARModel.forecast`).
- Classification: 1-nearest-neighbour with the Euclidean distance or dynamic time warping
  (:func:`dtw_distances`, full window or a Sakoe-Chiba band), the reference classifiers of the UCR archive
  (Dau et al. 2019, "The UCR time series archive", IEEE/CAA J. Autom. Sinica 6(6)).
- Text: a character n-gram model with interpolated Witten-Bell smoothing (:class:`CharNGram`), scored in
  nats per character.

Everything is NumPy, float64, deterministic.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

__all__ = ["ARModel", "CharNGram", "dtw_distances", "euclidean_distances", "fit_ar", "nearest_neighbor",
           "seasonal_naive"]


def _series(y: np.ndarray, name: str = "y") -> np.ndarray:
    a = np.asarray(y, dtype=np.float64)
    if a.ndim not in (1, 2):
        raise ValueError(f"{name} has shape {a.shape}; pass a series of shape (time,) or (time, features)")
    return a


# ------------------------------------------------------------------------------------------ forecasting


def seasonal_naive(train: np.ndarray, horizon: int, period: int = 1) -> np.ndarray:
    """Repeat the last ``period`` observations of ``train`` over ``horizon`` steps (``period=1``: naive).

    Shape: ``train`` ``(time,)`` or ``(time, features)`` -> ``(horizon,)`` or ``(horizon, features)``.
    """
    y = _series(train, "train")
    if horizon < 1:
        raise ValueError(f"horizon={horizon}: must be at least 1 step ahead")
    if not 1 <= period <= len(y):
        raise ValueError(f"period={period}: must be between 1 and the training length {len(y)}")
    return y[len(y) - period:][np.arange(horizon) % period]


@dataclass(frozen=True)
class ARModel:
    """y[t] = intercept + sum_k coef[k] * y[t-1-k], for a univariate series (Box & Jenkins' AR(p))."""

    coef: np.ndarray  # (p,): coef[0] multiplies y[t-1]
    intercept: float

    @property
    def order(self) -> int:
        return len(self.coef)

    def one_step(self, y: np.ndarray, start: int) -> np.ndarray:
        """One-step-ahead predictions of ``y[start:]``, each from the true values before it. ``(len(y)-start,)``."""
        y = _univariate(y)
        p = self.order
        if not p <= start <= len(y):
            raise ValueError(f"start={start}: must be between the order {p} and the series length {len(y)}")
        lags = np.lib.stride_tricks.sliding_window_view(y[start - p:len(y) - 1], p)[:, ::-1]  # (n, p)
        return self.intercept + lags @ self.coef

    def forecast(self, history: np.ndarray, horizon: int) -> np.ndarray:
        """Recursive multi-step forecast: each prediction is fed back as the next lag. ``(horizon,)``."""
        h = _univariate(history)
        if horizon < 1:
            raise ValueError(f"horizon={horizon}: must be at least 1 step ahead")
        if len(h) < self.order:
            raise ValueError(f"history has {len(h)} points; AR({self.order}) needs at least {self.order}")
        window = list(h[len(h) - self.order:][::-1])  # most recent first
        out = np.empty(horizon)
        for t in range(horizon):
            out[t] = self.intercept + float(np.dot(self.coef, window))
            window = [out[t]] + window[:-1]
        return out


def _univariate(y: np.ndarray) -> np.ndarray:
    a = _series(y)
    if a.ndim == 2:
        if a.shape[1] != 1:
            raise ValueError(f"AR models one series; got {a.shape[1]} columns: fit one model per column")
        a = a[:, 0]
    return a


def fit_ar(train: np.ndarray, p: int, *, intercept: bool = True) -> ARModel:
    """Fit AR(p) by ordinary least squares on every window of ``train`` (conditional on the first p values)."""
    y = _univariate(train)
    if p < 1 or len(y) <= 2 * p:
        raise ValueError(f"p={p}: need 1 <= p and more than 2p points (the series has {len(y)}); lower p")
    lags = np.lib.stride_tricks.sliding_window_view(y[:-1], p)[:, ::-1]  # (len-p, p), lag 1 first
    design = np.column_stack([np.ones(len(lags)), lags]) if intercept else lags
    sol, *_ = np.linalg.lstsq(design, y[p:], rcond=None)
    return ARModel(coef=sol[1:] if intercept else sol, intercept=float(sol[0]) if intercept else 0.0)


# --------------------------------------------------------------------------------------- classification


def _panel(x: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name} has shape {a.shape}; pass equal-length univariate series as (n_series, time)")
    return a


def euclidean_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distances between the rows of ``a`` ``(q, n)`` and ``b`` ``(r, n)``: ``(q, r)``."""
    a, b = _panel(a, "a"), _panel(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"series lengths differ ({a.shape[1]} vs {b.shape[1]}); use dtw_distances instead")
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(d2, 0.0))


def dtw_distances(a: np.ndarray, b: np.ndarray, *, window: int | None = None,
                  max_cells: int = 1 << 22) -> np.ndarray:
    """Pairwise dynamic-time-warping distances between the rows of ``a`` ``(q, n)`` and ``b`` ``(r, m)``.

    The cost of a cell is the squared difference; the distance is the square root of the cheapest
    monotone, continuous alignment (steps (1,0), (0,1), (1,1); Sakoe & Chiba 1978). ``window`` is the
    Sakoe-Chiba band half-width in steps (``|i - j| <= window``); ``None`` is the full window, ``0`` is the
    Euclidean distance for equal lengths. All pairs advance together, row by row of the cost matrix, so the
    Python loop runs ``n * m`` times whatever the number of pairs; ``max_cells`` bounds the working memory.
    Returns ``(q, r)`` float64 (``inf`` where the band admits no alignment).
    """
    a, b = _panel(a, "a"), _panel(b, "b")
    if window is not None and window < 0:
        raise ValueError(f"window={window}: must be >= 0 (a Sakoe-Chiba half-width) or None for the full window")
    q, r = len(a), len(b)
    chunk = max(1, max_cells // max(1, r * (b.shape[1] + 1)))
    return np.concatenate([_dtw_block(a[i:i + chunk], b, window) for i in range(0, q, chunk)] or
                          [np.zeros((0, r))])


def _dtw_block(a: np.ndarray, b: np.ndarray, window: int | None) -> np.ndarray:
    (q, n), (r, m) = a.shape, b.shape
    w = max(n, m) if window is None else window
    bt = b.T[:, None, :]  # (m, 1, r)
    prev = np.full((m + 1, q, r), np.inf)  # prev[j] = D[i, j]; row 0 of D: 0 at j = 0, inf elsewhere
    prev[0] = 0.0
    for i in range(n):
        lo, hi = max(0, i - w), min(m, i + w + 1)  # columns j with |i - j| <= w
        cur = np.full_like(prev, np.inf)
        if lo < hi:
            cost = (a[None, :, i, None] - bt[lo:hi]) ** 2  # (hi - lo, q, r)
            best = np.minimum(prev[lo:hi], prev[lo + 1:hi + 1]) + cost  # diagonal and vertical steps
            for k, j in enumerate(range(lo, hi)):  # horizontal steps depend on the cell to the left
                cur[j + 1] = np.minimum(best[k], cur[j] + cost[k])
        prev = cur
    return np.sqrt(prev[m])


def nearest_neighbor(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, *,
                     metric: str = "euclidean", window: int | None = None) -> np.ndarray:
    """1-NN labels of ``x_test`` ``(q, n)`` from ``x_train`` ``(r, n)``; ties go to the first training series.

    ``metric``: ``"euclidean"`` or ``"dtw"`` (``window`` as in :func:`dtw_distances`).
    """
    y_train = np.asarray(y_train)
    if len(y_train) != len(np.asarray(x_train)):
        raise ValueError(f"x_train has {len(x_train)} series but y_train has {len(y_train)} labels")
    if metric == "euclidean":
        d = euclidean_distances(x_test, x_train)
    elif metric == "dtw":
        d = dtw_distances(x_test, x_train, window=window)
    else:
        raise ValueError(f"metric={metric!r}: valid: 'dtw', 'euclidean'")
    return y_train[np.argmin(d, axis=1)]


# --------------------------------------------------------------------------------------------------- text


class CharNGram:
    """Character n-gram language model with interpolated Witten-Bell smoothing.

    P(c | h) = (N(h c) + T(h) P(c | h')) / (N(h) + T(h)), where h' drops the oldest character of h, N counts
    occurrences in the training text and T(h) is the number of distinct characters seen after h; a history
    never seen backs off to P(c | h') entirely. The recursion ends in the uniform distribution over the
    vocabulary (Witten & Bell 1991; Chen & Goodman 1999, eq. 6). Histories are the ``order - 1`` preceding
    characters, fewer at the start of a text.
    """

    def __init__(self, *, order: int = 5) -> None:
        if order < 1:
            raise ValueError(f"order={order}: must be >= 1 (1 = unigram)")
        self.order = order
        self.vocab: tuple[str, ...] = ()
        self._next: dict[str, Counter[str]] = {}

    def fit(self, text: str) -> CharNGram:
        """Count every n-gram of length 1..order in ``text``. Returns ``self``."""
        if not text:
            raise ValueError("empty training text; pass at least one character")
        self.vocab = tuple(sorted(set(text)))
        nxt: dict[str, Counter[str]] = defaultdict(Counter)
        for k in range(self.order):  # history length k
            for h, c in Counter(text[i - k:i + 1] for i in range(k, len(text))).items():
                nxt[h[:-1]][h[-1]] += c
        self._next = dict(nxt)
        self._totals = {h: (sum(c.values()), len(c)) for h, c in self._next.items()}
        return self

    def prob(self, char: str, history: str) -> float:
        """P(char | the last order-1 characters of history)."""
        if not self.vocab:
            raise ValueError("the model is not fitted; call fit(text) first")
        h = history[max(0, len(history) - self.order + 1):] if self.order > 1 else ""
        p = 1.0 / len(self.vocab)
        for k in range(len(h) + 1):  # shortest history first, so each level interpolates the one below
            ctx = h[len(h) - k:]
            if ctx not in self._totals:
                break  # longer histories containing it are unseen too
            n, t = self._totals[ctx]
            p = (self._next[ctx].get(char, 0) + t * p) / (n + t)
        return p

    def nats_per_char(self, text: str, *, context: str = "") -> float:
        """Mean negative log-likelihood of ``text`` in nats per character; ``context`` precedes it.

        Characters outside the training vocabulary have probability zero: a ``ValueError`` names them.
        """
        unseen = sorted(set(text) - set(self.vocab))
        if unseen:
            raise ValueError(f"text has characters never seen in training: {unseen[:10]!r}; "
                             "train on text that contains them or remove them")
        if not text:
            raise ValueError("empty text to score")
        full, off = context + text, len(context)
        total = -sum(math.log(self.prob(full[i], full[max(0, i - self.order + 1):i]))
                     for i in range(off, len(full)))
        return total / len(text)
