"""Findings about the training-loss curve itself: diverged, too_short, still_learning / converged,
unstable, jumps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pinngen.core.diagnose import signals as sg
from pinngen.core.diagnose import words as w
from pinngen.core.diagnose.curves import Curve, phase_segments, raw_series
from pinngen.core.diagnose.thresholds import DiagnoseThresholds
from pinngen.core.findings import Finding


@dataclass(frozen=True)
class EndState:
    """The final window of the last phase: where it starts and how the loss moved across it."""

    seg: Curve  # the last phase
    start: int  # index in ``seg`` where the final window begins
    smooth_y: np.ndarray  # (len(seg),) median-filtered ``seg.y``
    change: float  # fitted change of y across the window
    t: float  # its t-statistic

    @property
    def step(self) -> int:
        return int(self.seg.steps[self.start])

    @property
    def last_step(self) -> int:
        return int(self.seg.steps[-1])


def end_state(seg: Curve, th: DiagnoseThresholds) -> EndState:
    ys = sg.smooth(seg.y, sg.odd_width(len(seg), th.smooth_fraction))
    start = sg.window_start(seg.steps, th.final_fraction, min(th.min_window, len(seg)))
    x = seg.steps[start:].astype(np.float64)
    noise_from = max(0, seg.y.size - 2 * (seg.y.size - start) - 10)
    change, t = sg.trend(x, ys[start:], sg.noise_level(seg.y[noise_from:]))
    return EndState(seg, start, ys, change, t)


def _where(end: EndState, th: DiagnoseThresholds, whole: Curve) -> str:
    phase = f" of the {end.seg.phases[-1]} phase" if len(end.seg) < len(whole) else ""
    return f"over {w.window_text(th.final_fraction)}{phase} (steps {end.step}-{end.last_step})"


# ---------------------------------------------------------------------------------------------- diverged
def check_diverged(
    history, loss: Curve | None, th: DiagnoseThresholds, ctx: dict[str, Any]
) -> tuple[list[Finding], int | None, bool]:
    """``(findings, first_bad_step, broken_at_end)``: non-finite values in any loss column (training,
    terms, validation) anywhere in the run, or a training loss exploding above its running minimum."""
    findings: list[Finding] = []
    first_bad: list[int] = []
    broken = False
    for name in history.columns:
        if not (name == "loss" or name.startswith(("loss/", "val/loss"))):
            continue
        steps, values, phases = raw_series(history, name)
        bad = np.nonzero(~np.isfinite(values))[0]
        if bad.size:
            step, phase = int(steps[bad[0]]), str(phases[bad[0]])
            first_bad.append(step)
            broken = broken or (name == "loss" and not np.isfinite(values[-1]))
            where = f" (phase {phase})" if phase else ""
            message = f"The {w.series_label(name)} became non-finite (inf or nan) at step {step}{where}."
            findings.append(Finding("diverged", "error", message, _diverged_hint(ctx, history), step, name))
    if findings:  # one statement: the earliest column to break
        findings = [min(findings, key=lambda f: (f.step, f.series != "loss"))]
    exploded = _exploding(loss, th) if loss is not None and len(loss) >= 2 else None
    if exploded is not None:
        i, at_end = exploded
        lo = int(np.argmin(loss.y[: i + 1]))
        size = float(np.max(loss.y[i:] - loss.y[lo]))
        size_text = (
            f"{size:.1f} orders of magnitude" if loss.log else f"by {w.num(size)} times its early spread"
        )
        step = int(loss.steps[i])
        message = (
            f"The training loss grew {size_text} above its minimum ({w.num(loss.values[lo])} at step "
            f"{int(loss.steps[lo])}) from step {step} on."
        )
        findings.append(Finding("diverged", "error", message, _diverged_hint(ctx, history), step, "loss"))
        first_bad.append(step)
        broken = broken or at_end
    return findings, min(first_bad, default=None), broken


def _diverged_hint(ctx: dict[str, Any], history) -> str:
    known = ctx.get("optimizer") or w.final_lr(ctx, history) is not None
    lr = f" ({w.lr_advice(ctx, history)})" if known else ""
    return (
        f"Lower the learning rate{lr}, clip gradients (optax.clip_by_global_norm), check the scaling of "
        "inputs and targets, and consider float64."
    )


def _exploding(loss: Curve, th: DiagnoseThresholds) -> tuple[int, bool] | None:
    """``(index, still_exploded_at_the_end)`` where the loss first stays ``diverge_orders`` above its
    running minimum for ``diverge_persist`` points (or up to the end)."""
    limit = th.diverge_orders if loss.log else 10.0**th.diverge_orders
    above = (loss.y - sg.running_min(loss.y)) >= limit
    i = sg.first_persistent(above, th.diverge_persist)
    return None if i is None else (i, bool(above[-1]))


# --------------------------------------------------------------------------------------------- too_short
def too_short(n: int, th: DiagnoseThresholds) -> Finding:
    what = "no training loss was recorded" if n == 0 else f"only {n} training-loss values were recorded"
    message = f"Too little to judge: {what} (at least {th.min_steps} are needed)."
    hint = "Train longer or record the loss more often (a smaller logging interval)."
    return Finding("too_short", "info", message, hint, None, "loss")


# ------------------------------------------------------------------------- still_learning / converged
def check_trend(
    end: EndState, whole: Curve, th: DiagnoseThresholds, has_val: bool, oscillates: bool
) -> list[Finding]:
    """``still_learning`` (significant fall above the threshold) or ``converged`` (flat within noise and
    not oscillating)."""
    rel = w.relative_change(whole, end.change)
    significant = end.t >= th.significance
    where = _where(end, th, whole)
    said = f"The training loss {w.change_text(whole, end.change)} {where}"
    if significant and rel <= -th.still_learning_decrease:
        lbfgs = "lbfgs" in str(end.seg.phases[-1]).lower().replace("-", "")
        hint = (
            "Run more L-BFGS iterations (or loosen its stopping tolerance)."
            if lbfgs
            else "Train longer, or raise the learning rate (or let its schedule decay later)."
        )
        return [Finding("still_learning", "warning", f"{said}: it is still learning.", hint, end.last_step)]
    if oscillates or (significant and rel >= th.still_learning_decrease):
        return []  # reported as unstable
    noise = " (within its noise)" if abs(rel) >= th.still_learning_decrease else ""
    since = _plateau_step(end, whole, th)
    share = (end.last_step - since) / max(1, end.last_step - int(whole.steps[0]))
    message = (
        f"{said}{noise}: it has converged, flat to within {w.percent(th.still_learning_decrease)}"
        f"{'' if whole.log else ' of its spread'} "
        f"since about step {since} (the last {w.percent(share)} of the run)."
    )
    if share > 0.5:
        hint = "Flat for most of the run: fewer steps would do"
    else:
        hint = "Flat at the end, as it should be"
    if has_val:
        hint += "; a long plateau is where overfitting starts, so use early stopping on the validation loss."
    else:
        hint += "; record a validation loss to check that flat does not mean overfitting."
    return [Finding("converged", "info", message, hint, end.last_step)]


def _plateau_step(end: EndState, whole: Curve, th: DiagnoseThresholds) -> int:
    """First step from which a well-smoothed curve stays within the flatness band of its final level."""
    seg = end.seg
    width = sg.odd_width(len(seg), th.final_fraction / 2)
    ys = sg.smooth(seg.y, width)
    # The band widens to three standard errors of a running median, so noise alone does not leave it.
    median_error = 1.25 * sg.noise_level(seg.y) / np.sqrt(width)
    band = max(w.dy_of(whole, th.still_learning_decrease), 3 * median_error)
    final = float(np.median(ys[end.start :]))
    outside = np.nonzero(np.abs(ys - final) > band)[0]
    i = 0 if outside.size == 0 else min(int(outside[-1]) + 1, len(ys) - 1)
    return int(seg.steps[i])


# ---------------------------------------------------------------------------------------------- unstable
def oscillation(end: EndState, th: DiagnoseThresholds) -> tuple[bool, float, float]:
    """``(oscillates, amplitude, flips)`` of the detrended final window: robust standard deviation in
    ``y`` units and the fraction of sign changes between successive differences."""
    x = end.seg.steps[end.start :].astype(np.float64)
    r = sg.detrended(x, end.seg.y[end.start :])
    amp = sg.robust_sigma(r)
    flips = sg.sign_change_fraction(r)
    oscillates = (amp >= th.unstable_amplitude and flips >= th.unstable_sign_changes) or (
        r.size > 20 and flips >= th.unstable_alternation and amp >= th.unstable_alternation_amplitude
    )
    return oscillates, amp, flips


def check_unstable(
    end: EndState, whole: Curve, th: DiagnoseThresholds, ctx: dict[str, Any], history
) -> list[Finding]:
    """Oscillation in the final window (amplitude and sign flips), or a significant rise."""
    oscillates, amp, flips = oscillation(end, th)
    rel = w.relative_change(whole, end.change)
    rising = end.t >= th.significance and rel >= th.still_learning_decrease
    if not (oscillates or rising):
        return []
    where = _where(end, th, whole)
    parts = []
    if oscillates:
        size = f"x{10.0**amp:.2f} ({amp:.2f} decades)" if whole.log else w.num(amp * whole.scale)
        parts.append(
            f"oscillates {where}: a typical deviation of {size} around its trend, with the direction "
            f"flipping in {w.percent(flips)} of steps"
        )
    if rising:
        parts.append(f"{w.change_text(whole, end.change)} {where}")
    message = "The training loss " + " and ".join(parts) + "."
    hint = (
        f"{w.lr_advice(ctx, history).capitalize()}: lower it 3-10x, or use a decaying schedule "
        "(with warm-up); with minibatches, a larger batch also calms the curve."
    )
    return [Finding("unstable", "warning", message, hint, end.step)]


# ------------------------------------------------------------------------------------------------- jumps
def check_jumps(
    loss: Curve, th: DiagnoseThresholds, ctx: dict[str, Any], before: int | None, skip_from: int | None
) -> list[Finding]:
    """Isolated upward spikes, per phase; none at or after ``before`` (divergence) or ``skip_from``
    (a window already reported as unstable)."""
    min_rise = float(np.log10(th.jump_factor))
    hits: list[tuple[int, float]] = []  # (step, rise in y)
    for seg in phase_segments(loss):
        if len(seg) < th.min_steps:
            continue
        width = sg.odd_width(len(seg) - 1, 0.1, minimum=2 * th.min_window + 1)
        for i in sg.upward_spikes(seg.y, width, th.jump_z, min_rise):
            step = int(seg.steps[i + 1])
            if (before is None or step < before) and (skip_from is None or step < skip_from):
                hits.append((step, float(seg.y[i + 1] - seg.y[i])))
    if not hits:
        return []
    step, rise = max(hits, key=lambda h: h[1])
    size = f"x{10.0**rise:.3g}" if loss.log else f"+{w.num(rise * loss.scale)}"
    count = f"{len(hits)} upward spike{'s' if len(hits) > 1 else ''}"
    message = f"The training loss has {count}, the largest {size} in one step at step {step}"
    kinked = w.kinked_activations(ctx)
    if kinked:
        message += (
            f"; expected to some degree with ReLU-type activations ({', '.join(sorted(set(kinked)))}), "
            "whose derivative jumps."
        )
        hint = "If they bother you, try a smooth activation (tanh, gelu, silu) or a smaller learning rate."
        severity = "info"
    else:
        message += "."
        hint = (
            "Spikes come from a learning rate near the edge of stability or from unusual batches: try a "
            "smaller learning rate, gradient clipping, or look for outliers in the data."
        )
        severity = "warning"
    return [Finding("jumps", severity, message, hint, step)]
