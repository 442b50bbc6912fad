"""Synthetic loss curves and History builders shared by the diagnose() tests (test_diagnose_*.py).

Every generator is seeded and draws its shape on normalised time t in [0, 1], so the same curve recorded
with 50, 500 or 5000 points must get the same judgement.
"""

from __future__ import annotations

import numpy as np

from pinngen.core.findings import Finding
from pinngen.core.history import History

LENGTHS = (50, 500, 5000)


# ------------------------------------------------------------------------------------------- generators
def unit_time(n: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, n)


def batch_noise(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """Multiplicative minibatch noise: log-normal with standard deviation ``sigma`` in ln units."""
    return np.exp(sigma * rng.standard_normal(n))


def converged_curve(n: int, seed: int = 0, sigma: float = 0.03) -> np.ndarray:
    """Fast exponential decay onto a floor: flat for the second half of the run."""
    rng = np.random.default_rng(seed)
    return (1e-3 + np.exp(-20 * unit_time(n))) * batch_noise(rng, n, sigma)


def power_law_curve(n: int, seed: int = 0, sigma: float = 0.03) -> np.ndarray:
    """1 / (1 + 100 t): still falling about 20% over the last 20% of the run."""
    rng = np.random.default_rng(seed)
    return 1.0 / (1.0 + 100 * unit_time(n)) * batch_noise(rng, n, sigma)


def overfitting_curves(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Training keeps falling; validation has its minimum near t = 0.4 and then rises."""
    rng = np.random.default_rng(seed)
    t = unit_time(n)
    train = (0.05 + np.exp(-5 * t)) * np.exp(-t) * batch_noise(rng, n, 0.03)
    val = (0.3 + np.exp(-8 * t) + 0.4 * np.clip(t - 0.4, 0, None)) * batch_noise(rng, n, 0.01)
    return train, val


def alternating_curve(n: int, seed: int = 0) -> np.ndarray:
    """Converged, then bouncing up and down by x2.5 every step (learning rate past the edge of stability)."""
    y = converged_curve(n, seed)
    i = np.arange(n)
    tail = i >= n // 2
    y[tail] *= 10.0 ** (0.4 * (-1.0) ** i[tail])
    return y


def spiky_curve(n: int, seed: int = 0) -> np.ndarray:
    """Converged, with three isolated x10 spikes at 30%, 50% and 70% of the run."""
    y = converged_curve(n, seed)
    for f in (0.3, 0.5, 0.7):
        y[int(f * n)] *= 10
    return y


def likelihood_curve(n: int, seed: int = 0, sigma: float = 0.01, rate: float = 5.0) -> np.ndarray:
    """A negative ELBO in nats: 145 at the start, decaying exponentially onto a high floor (the data's
    entropy), 83.5 at the end, i.e. x0.58 of the first value."""
    rng = np.random.default_rng(seed)
    floor = (83.5 - 145.0 * np.exp(-rate)) / (1.0 - np.exp(-rate))
    y = (floor + (145.0 - floor) * np.exp(-rate * unit_time(n))) * batch_noise(rng, n, sigma)
    y[0] = 145.0
    return y


def pinn_terms(n: int, seed: int = 0, floor_bc: float = 1e-6) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = unit_time(n)
    return {
        "pde": (1e-2 + np.exp(-10 * t)) * batch_noise(rng, n, 0.03),
        "bc": (floor_bc + 0.1 * np.exp(-20 * t)) * batch_noise(rng, n, 0.03),
    }


def make_history(
    loss: np.ndarray | None = None,
    *,
    terms: dict[str, np.ndarray] | None = None,
    val: np.ndarray | None = None,
    phases: list[tuple[str, int]] | None = None,
    n_val: int = 25,
) -> History:
    """A History with ``loss`` (default: the sum of ``terms``), the terms, and ``val`` every few steps."""
    terms = terms or {}
    if loss is None:
        loss = sum(terms.values())
    n = len(loss)
    columns = {"loss": loss, **{f"loss/{k}": v for k, v in terms.items()}}
    h = History()
    start = 0
    for name, length in phases or [("adam", n)]:
        h.extend(
            np.arange(start, start + length), name, {k: v[start : start + length] for k, v in columns.items()}
        )
        start += length
    if val is not None:
        for i in np.unique(np.linspace(0, n - 1, n_val).round().astype(int)):
            h.record(int(i), {"val/loss": float(val[i])})
    return h


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[Finding], code: str) -> Finding:
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, f"expected one {code!r}, got {codes(findings)}"
    return hits[0]
