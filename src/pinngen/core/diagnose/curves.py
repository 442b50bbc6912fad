"""Curve: one recorded column of a History, cut to its finite points and put on a comparable scale."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Curve:
    """A named series ready for judgement.

    ``y`` is ``log10(values)`` when ``log`` (every value positive); otherwise ``values / scale`` with
    ``scale`` the curve's spread, so a change of 0.1 in ``y`` means "a tenth of a decade" or "a tenth of
    the spread" respectively.
    """

    name: str
    steps: np.ndarray  # (n,) int64
    values: np.ndarray  # (n,) float64, all finite
    phases: np.ndarray  # (n,) str
    log: bool
    scale: float
    y: np.ndarray  # (n,)

    def __len__(self) -> int:
        return int(self.steps.size)

    def transform(self, values: np.ndarray) -> np.ndarray:
        return np.log10(values) if self.log else values / self.scale

    def cut(self, start: int, stop: int | None = None) -> Curve:
        sl = slice(start, stop)
        return Curve(
            self.name, self.steps[sl], self.values[sl], self.phases[sl], self.log, self.scale, self.y[sl]
        )

    def at(self, steps: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        """``y`` (default: this curve's) linearly interpolated at ``steps``."""
        return np.interp(steps, self.steps, self.y if y is None else y)

    def level(self, y: float) -> float:
        """A value of ``y`` back in the loss's own units."""
        return float(10.0**y) if self.log else float(y * self.scale)


def raw_series(history, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(steps, values, phases)`` where ``name`` was recorded (non-finite values kept)."""
    values = np.asarray(history.column(name), dtype=np.float64)
    recorded = ~np.isnan(values)
    steps = np.asarray(history.steps)[recorded]
    phases = np.asarray(history.phases, dtype=object)[recorded]
    return steps, values[recorded], phases


def load_curve(history, name: str, like: Curve | None = None) -> Curve | None:
    """The finite part of column ``name``, or None when absent or empty.

    With ``like``, the curve shares ``like``'s scale (log or linear), so the two can be compared; it is
    None when ``like`` is in log space and this column is not positive.
    """
    if name not in history:
        return None
    steps, values, phases = raw_series(history, name)
    finite = np.isfinite(values)
    steps, values, phases = steps[finite], values[finite], phases[finite]
    if steps.size == 0:
        return None
    if np.any(np.diff(steps) < 0):  # e.g. appended out of order; every window assumes sorted steps
        order = np.argsort(steps, kind="stable")
        steps, values, phases = steps[order], values[order], phases[order]
    if like is not None:
        if like.log and not np.all(values > 0):
            return None
        log, scale = like.log, like.scale
    else:
        log = bool(np.all(values > 0))
        scale = 1.0 if log else _spread(values)
    y = np.log10(values) if log else values / scale
    return Curve(name, steps, values, phases, log, scale, y)


def _spread(values: np.ndarray) -> float:
    # The first half: a late blow-up should not set the unit it is measured in.
    head = values[: max(2, values.size // 2)]
    spread = float(np.percentile(head, 95) - np.percentile(head, 5))
    return max(spread, 1e-12 * float(np.max(np.abs(values))), 1e-300)


def last_phase(curve: Curve, min_points: int) -> Curve:
    """The trailing run of the final optimizer phase (the whole curve if that run is too short)."""
    phases = curve.phases
    start = phases.size - 1
    while start > 0 and phases[start - 1] == phases[-1]:
        start -= 1
    if phases.size - start < min_points:
        return curve
    return curve.cut(start)


def phase_segments(curve: Curve) -> list[Curve]:
    """Contiguous runs of one phase each (so a jump at a phase switch is not a spike)."""
    if len(curve) == 0:
        return []
    change = np.nonzero(curve.phases[1:] != curve.phases[:-1])[0] + 1
    bounds = [0, *change.tolist(), len(curve)]
    return [curve.cut(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
