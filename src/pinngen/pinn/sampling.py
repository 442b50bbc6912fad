"""Collocation sets for PINNs: fixed-size resampling and residual-based adaptive selection.

- `Sampler`: a serialisable spec that draws a collocation set of FIXED size n from a domain's
  interior or boundary parts, seeded by (seed, round). Static shapes keep one jitted step.
- `rar`: residual-based adaptive refinement, the n_add candidates with the largest |residual|
  (Lu, Meng, Mao & Karniadakis 2021, "DeepXDE", SIAM Review 63(1), 208-228; the RAR procedure).
- `rad`: residual-based adaptive distribution, n candidates drawn without replacement with
  p(x) proportional to |r(x)|^k / mean(|r|^k) + c (Wu, Zhu, Tan, Kartha & Lu 2023, "A comprehensive
  study of non-adaptive and residual-based adaptive sampling for physics-informed neural networks",
  Comput. Methods Appl. Mech. Engrg. 403, 115671; k=1, c=1 is their suggested default).
Everything here is host-side NumPy; residuals computed on device are converted with np.asarray.
"""

from __future__ import annotations

import numpy as np

from pinngen.pinn.geometry import METHODS, Domain

INTERIOR = "interior"


class Sampler:
    """Draws n points of `region` of `domain` with a new seed every `resample_every` steps.

    region: "interior", or a boundary-part spec accepted by `domain.resolve_parts` (a part name, an
        alias such as "boundary", or a sequence of names).
    method: one of "uniform", "sobol", "lhs", "grid" (grid is deterministic, so resampling it
        returns the same set).
    resample_every: training steps per collocation set. Step s belongs to round
        s // resample_every (0: a single round, the set never changes; 1: a fresh set every step,
        so `draw(k)` is "the set for seed k"). `draw(step)` is a pure function of (seed, round):
        calling it twice for the same round gives identical points, so restarts reproduce.
        `should_resample(step)` tells a training loop when the round changes.

    draw(step) -> (n, domain.dim) float64.
    """

    def __init__(self, domain: Domain, *, n: int, region: str | tuple[str, ...] = INTERIOR,
                 method: str = "uniform", seed: int = 0, resample_every: int = 0):
        if not isinstance(domain, Domain):
            raise ValueError(f"domain must be a geometry Domain; got {type(domain).__name__}")
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"n={n!r} must be a positive integer")
        if method not in METHODS:
            raise ValueError(f"method={method!r} is not supported; choose one of {METHODS}")
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed={seed!r} must be an integer >= 0")
        if isinstance(resample_every, bool) or not isinstance(resample_every, int | np.integer) or (
            resample_every < 0
        ):
            raise ValueError(f"resample_every={resample_every!r} must be an integer >= 0 (0: never)")
        if region != INTERIOR:
            try:
                domain.resolve_parts(region)
            except ValueError as err:
                msg = f"region={region!r} must be {INTERIOR!r} or a boundary part: {err}"
                raise ValueError(msg) from None
        self.domain, self.n, self.region, self.method = domain, int(n), region, method
        self.seed, self.resample_every = int(seed), int(resample_every)

    def __repr__(self) -> str:
        return (f"Sampler({self.domain!r}, n={self.n}, region={self.region!r}, method={self.method!r}, "
                f"seed={self.seed}, resample_every={self.resample_every})")

    def round_of(self, step: int) -> int:
        if step < 0:
            raise ValueError(f"step={step!r} must be >= 0")
        return 0 if self.resample_every == 0 else int(step) // self.resample_every

    def should_resample(self, step: int) -> bool:
        """True when `step` starts a new round (always at step 0)."""
        return step == 0 or (self.resample_every > 0 and step % self.resample_every == 0)

    def draw(self, step: int = 0) -> np.ndarray:
        """The collocation set for `step`, shape (n, dim); seeded by SeedSequence([seed, round])."""
        rng = np.random.default_rng([self.seed, self.round_of(step)])
        if self.region == INTERIOR:
            return self.domain.sample_interior(self.n, method=self.method, rng=rng)
        return self.domain.sample_boundary(self.n, part=self.region, method=self.method, rng=rng)


def _scores(candidates, residual_abs) -> tuple[np.ndarray, np.ndarray]:
    """(m, dim) candidates and (m,) non-negative scores; a residual with extra axes (systems)
    is reduced to its Euclidean norm per point."""
    x = np.asarray(candidates, dtype=np.float64)
    r = np.abs(np.asarray(residual_abs, dtype=np.float64))
    if x.ndim != 2:
        raise ValueError(f"candidates must have shape (m, dim); got {x.shape}")
    if r.ndim == 0 or r.shape[0] != x.shape[0]:
        raise ValueError(f"residual_abs must have shape (m,) or (m, ...) with m={len(x)}; got {r.shape}")
    if r.ndim > 1:
        r = np.sqrt(np.sum(r.reshape(len(r), -1) ** 2, axis=1))
    if not np.all(np.isfinite(r)):
        raise ValueError(f"residual_abs has {int(np.sum(~np.isfinite(r)))} non-finite values")
    return x, r


def _check_count(n: int, m: int, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 0 <= n <= m:
        raise ValueError(f"{name}={n!r} must be an integer in [0, {m}] (the number of candidates)")
    return int(n)


def rar(candidates, residual_abs, n_add: int, *, return_index: bool = False):
    """RAR (Lu et al. 2021): the n_add candidates with the largest |residual|.

    candidates (m, dim); residual_abs (m,) or (m, c). Returns (n_add, dim) in decreasing residual
    order (ties: lower index first), and their indices (n_add,) if return_index. The caller appends
    them to the training set (the set grows, so the step recompiles; see `rad` for a fixed size).
    """
    x, r = _scores(candidates, residual_abs)
    n_add = _check_count(n_add, len(x), "n_add")
    idx = np.argsort(-r, kind="stable")[:n_add]
    return (x[idx], idx) if return_index else x[idx]


def rad(candidates, residual_abs, n: int, *, k: float = 1.0, c: float = 1.0,
        rng: np.random.Generator | int, return_index: bool = False):
    """RAD (Wu et al. 2023): n candidates without replacement, p proportional to |r|^k / mean(|r|^k) + c.

    k sharpens the focus on large residuals; c >= 0 keeps a uniform floor (c -> inf is uniform
    sampling). Candidates should be dense and uniform in the domain (e.g. 10-100x n). A residual that
    is zero everywhere gives uniform sampling. Returns (n, dim), and indices (n,) if return_index.
    """
    x, r = _scores(candidates, residual_abs)
    n = _check_count(n, len(x), "n")
    if not np.isfinite(k) or k < 0:
        raise ValueError(f"k={k!r} must be a finite number >= 0")
    if not np.isfinite(c) or c < 0:
        raise ValueError(f"c={c!r} must be a finite number >= 0")
    if not isinstance(rng, np.random.Generator):
        if isinstance(rng, bool) or not isinstance(rng, int | np.integer):
            raise ValueError(f"rng={rng!r} must be a numpy.random.Generator or an integer seed")
        rng = np.random.default_rng(int(rng))
    rk = r**k
    mean = rk.mean()
    weight = (rk / mean if mean > 0 else np.zeros_like(rk)) + c
    if weight.sum() <= 0:  # zero residual and c == 0: nothing prefers any point
        weight = np.ones_like(rk)
    # Candidates with zero weight can only be drawn if n exceeds the number of positive weights.
    if np.count_nonzero(weight) < n:
        raise ValueError(f"n={n} exceeds the {np.count_nonzero(weight)} candidates with non-zero "
                         "probability; raise c above 0 or lower n")
    idx = rng.choice(len(x), size=n, replace=False, p=weight / weight.sum())
    return (x[idx], idx) if return_index else x[idx]
