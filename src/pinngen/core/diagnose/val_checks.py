"""Findings that compare validation with training loss: overfitting, val_below_train."""

from __future__ import annotations

import numpy as np

from pinngen.core.diagnose import signals as sg
from pinngen.core.diagnose import words as w
from pinngen.core.diagnose.context import DiagnoseContext
from pinngen.core.diagnose.curves import Curve, load_curve
from pinngen.core.diagnose.thresholds import DiagnoseThresholds
from pinngen.core.findings import Finding


def check_validation(history, loss: Curve, th: DiagnoseThresholds, ctx: DiagnoseContext) -> list[Finding]:
    """Overfitting and validation-below-training, from ``val/loss`` on the training loss's scale."""
    val = load_curve(history, "val/loss", like=loss)
    if val is None or len(val) < th.min_val_points:
        return []
    train_smooth = sg.smooth(loss.y, sg.odd_width(len(loss), th.smooth_fraction))
    train_at_val = loss.at(val.steps, train_smooth)  # (n_val,)
    val_smooth = sg.smooth(val.y, sg.odd_width(len(val), th.smooth_fraction))
    return [
        *_overfitting(loss, val, val_smooth, train_at_val, th),
        *_val_below_train(loss, val, train_at_val, th, ctx),
    ]


def _overfitting(
    loss: Curve, val: Curve, vs: np.ndarray, tv: np.ndarray, th: DiagnoseThresholds
) -> list[Finding]:
    b = int(np.argmin(vs))
    best_step = int(val.steps[b])
    train_fell = tv[-1] - tv[b] <= w.dy_of(loss, -th.overfit_train_fall)
    if not train_fell:
        return []
    rise = float(vs[-1] - vs[b])
    gap_growth = float((vs[-1] - tv[-1]) - (vs[b] - tv[b]))
    window = sg.window_start(val.steps, th.final_fraction, 1)
    train_said = f"the training loss {w.change_text(loss, float(tv[-1] - tv[b]))}"
    if rise >= w.dy_of(loss, th.overfit_val_rise):
        message = (
            f"The validation loss {w.change_text(loss, rise)} from its minimum "
            f"({w.num(loss.level(vs[b]))} at step {best_step}) while {train_said}: the model is overfitting."
        )
    elif b < window and gap_growth >= w.dy_of(loss, th.overfit_gap_growth - 1):
        growth = f"x{10.0**gap_growth:.3g}" if loss.log else f"by {w.num(gap_growth * loss.scale)}"
        message = (
            f"The validation loss stopped improving after step {best_step} while {train_said}; the "
            f"validation/training gap grew {growth} since: the model is starting to overfit."
        )
    else:
        return []
    hint = (
        f"Stop early (the best validation loss was at step {best_step}), add regularisation (weight decay, "
        "dropout), or use more training data (or augmentation)."
    )
    return [Finding("overfitting", "warning", message, hint, best_step, "val/loss")]


def _val_below_train(
    loss: Curve, val: Curve, tv: np.ndarray, th: DiagnoseThresholds, ctx: DiagnoseContext
) -> list[Finding]:
    k = min(len(val) // 2, len(val) - th.min_val_points)
    k = max(k, 0)
    diff = val.y[k:] - tv[k:]  # (n,) validation minus training, on the common scale
    below = diff <= w.dy_of(loss, -th.val_below_margin)
    share = float(np.mean(below))
    if share < th.val_below_fraction:
        return []
    typical = float(np.median(diff))
    by = f"by a median factor x{10.0**-typical:.3g}" if loss.log else f"by {w.num(-typical * loss.scale)}"
    step = int(val.steps[k])
    message = (
        f"The validation loss is below the training loss in {w.percent(share)} of the evaluations since "
        f"step {step} ({by})"
    )
    if ctx.is_regularised:
        dropout = ctx.dropout
        what = f"dropout {dropout}" if dropout else "the regularisation"
        message += f"; expected here, since {what} is active only in training."
        hint = "Nothing to fix; regularisation raises the training loss, not the validation loss."
        severity = "info"
    else:
        message += "."
        hint = (
            "Without dropout or another training-only regulariser this is suspicious: look for a leak "
            "between training and validation data (duplicates, overlapping windows, scaling fitted on all "
            "data) or a validation split that is easier than the training data."
        )
        severity = "warning"
    return [Finding("val_below_train", severity, message, hint, step, "val/loss")]
