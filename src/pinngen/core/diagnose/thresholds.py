"""DiagnoseThresholds: every number that turns a loss curve into a finding, named and documented."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class DiagnoseThresholds:
    """Thresholds of :func:`pinngen.core.diagnose.diagnose`.

    Levels and changes are judged in log10 space ("decades") when a curve is positive. A curve with zero or
    negative values (e.g. the negative log-likelihood of a flow) is judged in linear units divided by the
    curve's spread (95th minus 5th percentile of its first half); there a number given in decades is read
    as a fraction of that spread, and a relative change (``still_learning_decrease`` ...) likewise.

    Length-robustness: windows are fractions of the run, so the same curve shape recorded with 50 or 5000
    points gives the same judgement.
    """

    # --- how much data is needed, and which part is "the end"
    min_steps: int = 20
    """Fewer recorded training-loss values than this: only ``too_short`` (and ``diverged``) is reported."""
    final_fraction: float = 0.2
    """The end of training is the last ``final_fraction`` of the last phase's steps."""
    min_window: int = 8
    """The final window holds at least this many points (fewer only if the phase is shorter)."""
    smooth_fraction: float = 0.01
    """Median-filter width as a fraction of the number of points (at least 3), against minibatch noise."""
    significance: float = 3.0
    """t-statistic a final-window trend needs (slope over its robust standard error) to count as real."""

    # --- still learning / converged
    still_learning_decrease: float = 0.05
    """Relative decrease over the final window above which the run is ``still_learning`` (else
    ``converged``); the same rise makes it ``unstable`` (rising)."""
    weak_significance: float = 1.5
    """A final-window fall of at least ``still_learning_decrease`` whose t-statistic is between this and
    ``significance`` is ``still_learning`` when the final window's median also lies that much and
    ``significance`` standard errors below the median of the window before. Why: on a real minibatch curve
    (tests/core/data/real_curves/cls-sgd-good: digits, SGD lr 0.1, batch 64, 600 steps) the last 20% fell
    23% at t = 2.0 (noise 0.17 decades per step) and read "converged" although its median fell 27% from the
    window before and the validation loss still fell. The trade-off, on 200 seeds of synthetic curves with
    0.13 decades of noise per step: a power law 1/(1+100t) still falling 20% per final window was called
    still learning 27% of the time without this rule, 62% with 2.0 and 74% with 1.5; a plateau reached just
    before the final window 0%, 3.5% and 9% (and 33% with no t gate at all)."""

    # --- diverged
    diverge_orders: float = 3.0
    """Loss more than this many orders of magnitude above its running minimum is ``diverged``."""
    diverge_persist: int = 3
    """...for at least this many consecutive points (or at the final point), so one spike is a jump."""

    # --- unstable
    unstable_amplitude: float = 0.3
    """Robust standard deviation (decades) of the detrended final-window log-loss above which it oscillates
    (0.3 decades is a typical deviation of x2; the minibatch noise of a mean-squared error over a batch of
    16 is about 0.15 decades, so noisy minibatch curves stay below it)."""
    unstable_sign_changes: float = 0.5
    """...together with at least this fraction of sign changes between successive differences (white
    noise gives about 2/3, a slow wander much less)."""
    unstable_alternation: float = 0.9
    """A near-perfect up/down alternation (this fraction of sign changes, over at least 20 differences) is
    ``unstable`` even at a smaller amplitude (learning rate at the edge of stability)."""
    unstable_alternation_amplitude: float = 0.01
    """...as long as its amplitude (decades) is at least this, so round-off wiggles do not count."""

    blowup_factor: float = 10.0
    """A loss that rises this factor above its first recorded value (without diverging) had unstable
    first steps: ``unstable`` at the peak."""

    # --- no progress
    no_progress_fraction: float = 0.5
    """A final level above this fraction of the first recorded value (positive losses): the loss hardly
    fell (``no_progress``)..."""
    no_progress_noise: float = 10.0
    """...unless it fell onto a floor: by at least this many times its point-to-point noise (decades),..."""
    no_progress_step_share: float = 0.5
    """...with no single step taking more than this share of that fall (the running minimum came down
    gradually, not from an outlying first value or through a blow-up),..."""
    no_progress_levelled: float = 0.5
    """...and falling over the final window at most this fraction of its average rate over the run
    (levelled off). Such a loss is at its floor (e.g. the entropy of the data for a likelihood), not stuck."""

    # --- jumps
    jump_z: float = 8.0
    """Robust z-score (vs the local median absolute deviation of log-loss differences) of an upward spike."""
    jump_factor: float = 2.0
    """A spike must also multiply the loss by at least this factor in one step."""

    # --- validation
    min_val_points: int = 5
    """Fewer validation evaluations than this: no validation findings."""
    overfit_val_rise: float = 0.1
    """Validation loss this fraction above its (smoothed) minimum while training loss falls: overfitting."""
    overfit_gap_growth: float = 2.0
    """Or: validation stopped improving and the val/train ratio grew by this factor since its best step."""
    overfit_train_fall: float = 0.02
    """Training loss must have fallen by at least this fraction since the best validation step."""
    val_below_margin: float = 0.3
    """Validation counts as below training when lower by more than this fraction (x1.43)...
    Why not less: a small validation split is easier or harder than the training data by chance (the mean
    squared error over n points has a relative spread of about sqrt(2/n), 17% for 66 points). On the real
    diabetes curves (tests/core/data/real_curves, 66 validation patients) a network that barely learned
    (Adam lr 1e-5) or never did (lr 1.0) sat x1.19 and x1.37 below its training loss, which 0.05 called a
    suspected leak; dropout 0.5 on the digits gives x2.1 and is still found."""
    val_below_fraction: float = 0.8
    """...in at least this fraction of the evaluations in the second half of the run."""

    # --- loss terms
    terms_ratio: float = 1e3
    """Largest / smallest (unweighted) loss term at the end above this: ``terms_imbalanced``..."""
    terms_settled: float = 1e-6
    """...unless the largest term ended below this fraction of its starting level: a ratio of two terms that
    both fell by many orders of magnitude is not what the optimizer struggles with (the Allen-Cahn windows end
    with the residual near 1e-9 and the initial-condition term near 1e-13, both from O(0.1-1))."""
    term_flat_change: float = 0.02
    """A term whose relative change over the final window is below this is flat (``term_stalled`` while the
    total still falls significantly by ``still_learning_decrease``)."""
    term_stall_share: float = 0.1
    """...and the flat term is at least this fraction of the largest term (a term flat at a negligible
    level is done, not stalled)."""
    term_stall_self: float = 0.5
    """A term that ends within this factor of its starting level (between x0.5 and x2 by default)..."""
    term_stall_others: float = 0.1
    """...while the other terms ended below this fraction of theirs (median) is ``term_stalled``."""
    def __post_init__(self) -> None:
        validate_numbers(self, "threshold", fractions=_FRACTIONS)
        for name in ("jump_factor", "overfit_gap_growth", "terms_ratio", "blowup_factor"):
            if not getattr(self, name) > 1:
                raise ValueError(f"threshold {name}={getattr(self, name)!r} must be > 1")
        if self.weak_significance > self.significance:
            raise ValueError(f"threshold weak_significance={self.weak_significance!r} must be <= significance="
                             f"{self.significance!r}")
        if self.min_steps < 3:
            raise ValueError(f"threshold min_steps={self.min_steps!r} must be >= 3")


def validate_numbers(obj: Any, what: str, fractions: tuple[str, ...] = ()) -> None:
    """Every field of the frozen dataclass ``obj`` a number > 0 (``int`` fields whole, converted from
    20.0 as a YAML/pydantic float dict gives them), the ``fractions`` below 1; ValueError otherwise.
    Family thresholds (see :func:`pinngen.core.diagnose.register_thresholds`) call this too."""
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{what} {f.name}={value!r} must be a number")
        if f.type in ("int", int):
            if int(value) != value:
                raise ValueError(f"{what} {f.name}={value!r} must be an integer")
            object.__setattr__(obj, f.name, int(value))
        if not value > 0:
            raise ValueError(f"{what} {f.name}={value!r} must be > 0")
    for name in fractions:
        if not getattr(obj, name) < 1:
            raise ValueError(f"{what} {name}={getattr(obj, name)!r} must be in (0, 1)")


_FRACTIONS = (
    "final_fraction",
    "smooth_fraction",
    "unstable_sign_changes",
    "unstable_alternation",
    "overfit_train_fall",
    "val_below_margin",
    "val_below_fraction",
    "term_flat_change",
    "term_stall_share",
    "term_stall_self",
    "term_stall_others",
    "terms_settled",
    "no_progress_fraction",
    "no_progress_step_share",
)

