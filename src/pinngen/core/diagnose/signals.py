"""Pure array functions behind the diagnosis: smoothing, robust fits, windows, spikes.

All take and return NumPy arrays of shape ``(n,)``; none looks at names or thresholds' meaning.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter, percentile_filter

# The interquartile range of a normal distribution divided by this is its standard deviation. The IQR (not
# the median absolute deviation) because it stays right for a two-valued up/down oscillation.
_IQR_TO_SIGMA = 1.349
MAX_FILTER_WIDTH = 201  # running filters wider than this cost time and add nothing


def odd_width(n: int, fraction: float, minimum: int = 3) -> int:
    """An odd filter width of about ``fraction * n`` points, at least ``minimum``, at most ``n``."""
    w = min(max(minimum, int(round(fraction * n))), MAX_FILTER_WIDTH)
    w = min(w, n if n % 2 else n - 1)
    return max(1, w | 1)


def smooth(y: np.ndarray, width: int) -> np.ndarray:
    """Running median: removes isolated spikes and minibatch noise without shifting a trend.

    Near the ends the window shrinks to the points that exist (padding by repeating the end value would
    make the last smoothed values copies of the last, noisy, raw value).
    """
    if width <= 1 or y.size < 3:
        return y.copy()
    out = median_filter(y, size=width, mode="nearest")
    half = width // 2
    for i in range(min(half, y.size)):
        out[i] = np.median(y[: i + half + 1])
        out[-1 - i] = np.median(y[y.size - 1 - i - half :])
    return out


def robust_sigma(x: np.ndarray) -> float:
    """Standard deviation estimated from the interquartile range (robust to a quarter of outliers)."""
    if x.size == 0:
        return 0.0
    q1, q3 = np.percentile(x, [25, 75])
    return float((q3 - q1) / _IQR_TO_SIGMA)


def theil_sen(x: np.ndarray, y: np.ndarray, max_points: int = 200) -> tuple[float, float]:
    """Robust line fit ``y ~ slope * x + intercept``: the median of pairwise slopes (Sen 1968).

    Long inputs are thinned to ``max_points`` evenly spaced points so the cost stays O(max_points^2).
    """
    if x.size < 2:
        return 0.0, float(y[0]) if y.size else 0.0
    if x.size > max_points:
        idx = np.unique(np.linspace(0, x.size - 1, max_points).round().astype(int))
        x, y = x[idx], y[idx]
    i, j = np.triu_indices(x.size, k=1)
    dx = x[j] - x[i]
    keep = dx > 0
    if not keep.any():
        return 0.0, float(np.median(y))
    slope = float(np.median((y[j] - y[i])[keep] / dx[keep]))
    return slope, float(np.median(y - slope * x))


def trend(x: np.ndarray, y_smooth: np.ndarray, noise: float) -> tuple[float, float]:
    """``(change, t)``: fitted change of ``y`` across ``x`` and its t-statistic.

    The slope is a Theil-Sen fit to the smoothed curve; its standard error is that of ordinary least
    squares on raw points with white noise of standard deviation ``noise`` (see :func:`noise_level`).
    """
    slope, _ = theil_sen(x, y_smooth)
    change = slope * float(x[-1] - x[0]) if x.size else 0.0
    sxx = float(np.sum((x - x.mean()) ** 2))
    if change == 0.0:
        return 0.0, 0.0
    if noise == 0.0 or sxx == 0.0:
        return change, float("inf")
    return change, abs(slope) / (noise / np.sqrt(sxx))


def noise_level(y: np.ndarray) -> float:
    """Point-to-point noise of ``y``: robust scatter of successive differences over sqrt(2).

    Differences cancel a smooth trend, and using every point (not just a short final window) keeps the
    estimate steady on short runs.
    """
    if y.size < 3:
        return 0.0
    return robust_sigma(np.diff(y)) / np.sqrt(2.0)


def window_start(steps: np.ndarray, fraction: float, min_points: int) -> int:
    """Index where the last ``fraction`` of the step range begins, keeping at least ``min_points``."""
    n = steps.size
    cut = steps[-1] - fraction * (steps[-1] - steps[0])
    start = int(np.searchsorted(steps, cut, side="left"))
    return max(0, min(start, n - min_points))


def detrended(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``y`` minus a quadratic fit in ``x``: what is left is the fluctuation around the trend."""
    if x.size < 4:
        return y - np.mean(y)
    u = (x - x[0]) / max(float(x[-1] - x[0]), 1e-300)
    return y - np.polyval(np.polyfit(u, y, 2), u)


def sign_change_fraction(r: np.ndarray) -> float:
    """Fraction of successive differences of ``r`` whose sign flips (1 for a perfect up/down alternation)."""
    d = np.sign(np.diff(r))
    d = d[d != 0]
    if d.size < 2:
        return 0.0
    return float(np.mean(d[1:] != d[:-1]))


def upward_spikes(y: np.ndarray, width: int, z: float, min_rise: float) -> np.ndarray:
    """Indices ``i`` where ``y[i+1] - y[i]`` is an outlier upward step.

    Robust z-score against the *local* median and interquartile range of the differences (over ``width``
    differences), so a stretch of steady oscillation is not a string of spikes; the step must also be at
    least ``min_rise``.
    """
    d = np.diff(y)
    if d.size < 3:
        return np.zeros(0, dtype=int)
    width = min(width, d.size if d.size % 2 else d.size - 1)
    center = median_filter(d, size=width, mode="nearest")
    q1 = percentile_filter(d, 25, size=width, mode="nearest")
    q3 = percentile_filter(d, 75, size=width, mode="nearest")
    scale = (q3 - q1) / _IQR_TO_SIGMA
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(scale > 0, (d - center) / scale, np.where(d > center, np.inf, 0.0))
    return np.nonzero((score > z) & (d >= min_rise))[0]


def running_min(y: np.ndarray) -> np.ndarray:
    return np.minimum.accumulate(y)


def first_persistent(mask: np.ndarray, persist: int) -> int | None:
    """First index that starts ``persist`` consecutive True values, or a True run lasting to the end."""
    run_start = None
    for i, flag in enumerate(mask):
        if not flag:
            run_start = None
            continue
        if run_start is None:
            run_start = i
        if i - run_start + 1 >= persist or i == mask.size - 1:
            return run_start
    return None
