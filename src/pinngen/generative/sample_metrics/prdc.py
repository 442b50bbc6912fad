"""k-nearest-neighbour sample metrics in a feature space: improved precision and recall, density and coverage.

Each real point ``r_j`` gets a ball whose radius is the distance to its k-th nearest *other* real point
(likewise for the fake points). With ``d_ij`` the distance between fake ``i`` and real ``j``:

* **precision** (Kynkäänniemi et al. 2019): the fraction of fake points inside at least one real ball
  (are the samples realistic?);
* **recall** (same paper): the fraction of real points inside at least one fake ball (do the samples cover
  the data?);
* **density** (Naeem et al. 2020, eq. 3): ``1 / (k M) * sum_i #{j : d_ij < r_j}``, the mean number of real
  balls holding each fake point over k; 1 on average for samples from the data's distribution, and not
  capped at 1, so it rewards samples in dense real regions and is robust to real outliers;
* **coverage** (Naeem et al. 2020, eq. 4): the fraction of real points whose ball holds at least one fake
  point; near ``1 - 1/2^k`` (0.97 for k = 5) for samples from the data's distribution of the same size.

"Inside" is the strict ``d < r``, as in the authors' ``prdc`` package, with which these functions are tested
(``tests/generative/data/prdc_reference.npz``). Distances are Euclidean, in float64, in row chunks, so
10,000 x 10,000 never builds the whole matrix.
"""

from __future__ import annotations

import numpy as np

__all__ = ["knn_radii", "pairwise_distances", "prdc"]

_CHUNK = 1024


def _as_features(x, what: str) -> np.ndarray:
    a = np.asarray(x, np.float64)
    if a.ndim != 2 or a.shape[0] < 1:
        raise ValueError(f"{what} has shape {a.shape}; expected features (n, d) with n >= 1")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} contains NaN or inf")
    return a


def pairwise_distances(a, b) -> np.ndarray:
    """Euclidean distances ``(len(a), len(b))`` between the rows of ``a`` ``(n, d)`` and ``b`` ``(m, d)``.

    ``|a|^2 + |b|^2 - 2 a.b``, clipped at 0 against rounding, in float64.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    sq = np.sum(a * a, axis=1)[:, None] + np.sum(b * b, axis=1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(sq, 0.0))


def knn_radii(x, k: int) -> np.ndarray:
    """Distance from each row of ``x`` ``(n, d)`` to its k-th nearest other row: ``(n,)``.

    A duplicated point is another point at distance 0 (only the row itself is excluded).
    """
    x = _as_features(x, "features")
    n = len(x)
    if not 1 <= k < n:
        raise ValueError(f"k={k}: need 1 <= k < n = {n} (a point's k-th neighbour among the others)")
    out = np.empty(n)
    for start in range(0, n, _CHUNK):
        d = pairwise_distances(x[start:start + _CHUNK], x)  # (chunk, n)
        rows = np.arange(len(d))
        d[rows, start + rows] = 0.0  # the point itself: exactly 0, the smallest entry of its row
        out[start:start + len(d)] = np.partition(d, k, axis=1)[:, k]  # index 0 is the point itself
    return out


def prdc(real, fake, *, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` ``(m, d)`` against ``real`` ``(n, d)`` features.

    Args:
        real, fake: feature vectors (e.g. :meth:`FeatureClassifier.features`); both need more than ``k`` rows.
        k: the neighbour that sets each ball's radius (5 in both papers).

    Returns:
        ``{"precision", "recall", "density", "coverage"}`` as floats (see the module docstring).
    """
    real, fake = _as_features(real, "real features"), _as_features(fake, "fake features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real features have {real.shape[1]} dimensions, fake ones {fake.shape[1]}; "
                         "compute both with the same feature extractor")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k={k!r}: must be a positive integer")
    for what, a in (("real", real), ("fake", fake)):
        if len(a) <= k:
            raise ValueError(f"{len(a)} {what} points: k-nearest-neighbour metrics need more than k={k}")
    r_real, r_fake = knn_radii(real, k), knn_radii(fake, k)
    in_real_balls = np.zeros(len(fake))  # per fake point: how many real balls hold it
    nearest_fake = np.full(len(real), np.inf)  # per real point: distance to the nearest fake point
    real_covered = np.zeros(len(real), bool)  # per real point: inside some fake ball
    for start in range(0, len(fake), _CHUNK):
        d = pairwise_distances(fake[start:start + _CHUNK], real)  # (chunk, n)
        in_real_balls[start:start + len(d)] = np.sum(d < r_real[None, :], axis=1)
        nearest_fake = np.minimum(nearest_fake, d.min(axis=0))
        real_covered |= np.any(d < r_fake[start:start + len(d), None], axis=0)
    return {"precision": float(np.mean(in_real_balls > 0)),
            "recall": float(np.mean(real_covered)),
            "density": float(np.mean(in_real_balls) / k),
            "coverage": float(np.mean(nearest_fake < r_real))}
