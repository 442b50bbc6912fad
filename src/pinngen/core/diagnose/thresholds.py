"""DiagnoseThresholds: every number that turns a loss curve into a finding, named and documented."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
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
    val_below_margin: float = 0.05
    """Validation counts as below training when lower by more than this fraction..."""
    val_below_fraction: float = 0.8
    """...in at least this fraction of the evaluations in the second half of the run."""

    # --- loss terms
    terms_ratio: float = 1e3
    """Largest / smallest (unweighted) loss term at the end above this: ``terms_imbalanced``."""
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
    kl_per_unit: float = 0.01
    """KL term below this many nats per latent unit (``context['latent_dim']``, else 1) at the end:
    ``kl_collapse``."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"threshold {f.name}={value!r} must be a number")
            if f.type == "int":
                if int(value) != value:
                    raise ValueError(f"threshold {f.name}={value!r} must be an integer")
                object.__setattr__(self, f.name, int(value))  # 20.0 from a YAML/pydantic float dict
            if not value > 0:
                raise ValueError(f"threshold {f.name}={value!r} must be > 0")
        for name in _FRACTIONS:
            if not getattr(self, name) < 1:
                raise ValueError(f"threshold {name}={getattr(self, name)!r} must be in (0, 1)")
        for name in ("jump_factor", "overfit_gap_growth", "terms_ratio", "blowup_factor"):
            if not getattr(self, name) > 1:
                raise ValueError(f"threshold {name}={getattr(self, name)!r} must be > 1")
        if self.min_steps < 3:
            raise ValueError(f"threshold min_steps={self.min_steps!r} must be >= 3")


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
    "no_progress_fraction",
    "no_progress_step_share",
)


def resolve_thresholds(
    thresholds: DiagnoseThresholds | None, overrides: dict[str, Any]
) -> DiagnoseThresholds:
    """``thresholds`` (default: the defaults) with ``overrides`` applied; unknown names raise ValueError."""
    if thresholds is None:
        thresholds = DiagnoseThresholds()
    elif not isinstance(thresholds, DiagnoseThresholds):
        raise ValueError(f"thresholds={thresholds!r} must be a DiagnoseThresholds or None")
    valid = [f.name for f in fields(DiagnoseThresholds)]
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ValueError(f"unknown threshold(s) {', '.join(unknown)}; valid names: {', '.join(valid)}")
    return replace(thresholds, **overrides) if overrides else thresholds
