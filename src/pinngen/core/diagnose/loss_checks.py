"""Findings about the training-loss curve itself: diverged, too_short, still_learning / converged,
no_progress, unstable (oscillating or rising at the end, or blowing up in the first steps), jumps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pinngen.core.diagnose import signals as sg
from pinngen.core.diagnose import words as w
from pinngen.core.diagnose.context import DiagnoseContext
from pinngen.core.diagnose.curves import Curve, phase_segments, raw_series
from pinngen.core.diagnose.thresholds import DiagnoseThresholds
from pinngen.core.findings import Finding
from pinngen.core.optim import is_quasi_newton, quasi_newton_title


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
    history, loss: Curve | None, th: DiagnoseThresholds, ctx: DiagnoseContext
) -> tuple[list[Finding], int | None, bool]:
    """``(findings, first_bad_step, broken_at_end)``: non-finite values in any loss column (training,
    terms, validation) anywhere in the run, or a training loss exploding above its running minimum.
    Both are said in one ``diverged`` finding at the earlier step."""
    non_finite: list[tuple[int, str, str]] = []  # (step, sentence fragment, series)
    broken = False
    for name in history.columns:
        if not (name == "loss" or name.startswith(("loss/", "val/loss"))):
            continue
        steps, values, phases = raw_series(history, name)
        bad = np.nonzero(~np.isfinite(values))[0]
        if bad.size:
            step, phase = int(steps[bad[0]]), str(phases[bad[0]])
            broken = broken or (name == "loss" and not np.isfinite(values[-1]))
            where = f" (phase {phase})" if phase else ""
            label = w.series_label(name)
            non_finite.append(
                (step, f"the {label} became non-finite (inf or nan) at step {step}{where}", name)
            )
    # One non-finite statement (the earliest column, the total loss first) is enough.
    events = sorted(non_finite, key=lambda e: (e[0], e[2] != "loss"))[:1]
    exploded = _exploding(loss, th, ctx.data_redraw_every) if loss is not None and len(loss) >= 2 else None
    recovered = None  # the final loss, when an explosion was followed by a loss below the minimum before it
    if exploded is not None:
        i, at_end = exploded
        lo = int(np.argmin(loss.y[: i + 1]))
        size = float(np.max(loss.y[i:] - loss.y[lo]))
        size_text = (
            f"{size:.1f} orders of magnitude" if loss.log else f"by {w.num(size)} times its early spread"
        )
        step = int(loss.steps[i])
        events.append(
            (
                step,
                f"the training loss grew {size_text} above its minimum ({w.num(loss.values[lo])} at step "
                f"{int(loss.steps[lo])}) from step {step} on",
                "loss",
            )
        )
        broken = broken or at_end
        if not at_end and loss.y[-1] <= loss.y[lo]:
            recovered = float(loss.values[-1])
    if not events:
        return [], None, False
    events.sort(key=lambda e: (e[0], e[2] != "loss"))
    first = events[0]
    message = "; ".join(e[1] for e in events[:2])  # the first two events say enough
    message = message[0].upper() + message[1:] + "."
    severity = "error"
    retries = (getattr(history, "meta", None) or {}).get("divergence_retries") or []
    if retries:
        said = "; ".join(f"at step {e['step']} ({e['label']}, retry {e['retry']} of {e['of']}) from learning rate "
                         f"{w.num(e['lr_before'])} to {w.num(e['lr_after'])}" for e in retries[:3])
        message += (f" The divergence guard went back to the parameters of the last good chunk and retried with a "
                    f"smaller learning rate "
                    f"{said}" + (f" and {len(retries) - 3} more times" if len(retries) > 3 else "") + ".")
        if not broken:
            message += " Training then went on with finite losses."
            severity = "warning"
    if recovered is not None and not non_finite:  # a transient excursion (e.g. one bad quasi-Newton step)
        message += f" Training recovered: the final loss ({w.num(recovered)}) is below the minimum before it."
        severity = "warning"
    return (
        [Finding("diverged", severity, message, _diverged_hint(ctx, history), first[0], first[2])],
        first[0],
        broken,
    )


def _diverged_hint(ctx: DiagnoseContext, history) -> str:
    return (
        f"Lower the learning rate{w.lr_note(ctx, history)}, clip gradients (optax.clip_by_global_norm), "
        "check the scaling of inputs and targets, and consider float64."
    )


def _exploding(loss: Curve, th: DiagnoseThresholds, every: int | None = None) -> tuple[int, bool] | None:
    """``(index, still_exploded_at_the_end)`` where the loss first stays ``diverge_orders`` above its
    running minimum for ``diverge_persist`` points (or up to the end). With ``every`` (the training data are
    redrawn at its multiples) the running minimum starts again at each redraw: a loss on new points is not
    compared with the minimum reached on the old ones."""
    limit = th.diverge_orders if loss.log else 10.0**th.diverge_orders
    if every:
        block = np.asarray(loss.steps) // every
        floor = np.empty_like(loss.y)
        for b in np.unique(block):
            at = block == b
            floor[at] = sg.running_min(loss.y[at])
    else:
        floor = sg.running_min(loss.y)
    above = (loss.y - floor) >= limit
    i = sg.first_persistent(above, th.diverge_persist)
    return None if i is None else (i, bool(above[-1]))


# --------------------------------------------------------------------------------------------- too_short
def too_short(n: int, th: DiagnoseThresholds) -> Finding:
    what = (
        "no training loss was recorded" if n == 0 else f"only {n} finite training-loss values were recorded"
    )
    message = f"Too little to judge: {what} (at least {th.min_steps} are needed)."
    hint = "Train longer or record the loss more often (a smaller logging interval)."
    return Finding("too_short", "info", message, hint, None, "loss")


# ------------------------------------------------------------------------- still_learning / converged
def check_trend(
    end: EndState, whole: Curve, th: DiagnoseThresholds, has_val: bool, oscillates: bool
) -> list[Finding]:
    """``still_learning`` (significant fall above the threshold: fitted in the final window or, when that
    fit is within its noise, between the medians of the final window and the one before) or ``converged``
    (flat within noise and not oscillating)."""
    rel = w.relative_change(whole, end.change)
    significant = end.t >= th.significance
    where = _where(end, th, whole)
    said = f"The training loss {w.change_text(whole, end.change)} {where}"
    longer = None
    if th.weak_significance <= end.t < th.significance and not oscillates and rel <= -th.still_learning_decrease:
        longer = _confirmed_fall(end, whole, th)
    if (significant and rel <= -th.still_learning_decrease) or longer is not None:
        last = str(end.seg.phases[-1]).lower().replace("-", "").rsplit("/", 1)[-1]
        qn = "lbfgs" if "lbfgs" in last else last if is_quasi_newton(last) else None
        hint = (
            f"Run more {quasi_newton_title(qn)} iterations (or loosen its stopping tolerance)."
            if qn
            else "Train longer, or raise the learning rate (or let its schedule decay later)."
        )
        said += f", within its noise, and {longer}" if longer else ""
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


def _confirmed_fall(end: EndState, whole: Curve, th: DiagnoseThresholds) -> str | None:
    """'its median fell 16% from the window before (steps 360-479)' when the final window's median lies
    significantly (``significance`` standard errors) and at least ``still_learning_decrease`` below the
    median of the equally long window before it; None otherwise.

    For noisy minibatch curves a slope fitted inside the final window is too uncertain to tell a slow fall
    from a plateau; two medians side by side are steadier, and a plateau reached earlier than the final
    window does not move them."""
    seg = end.seg
    n = len(seg) - end.start
    before = max(0, end.start - n)
    if end.start - before < th.min_window:
        return None
    last, prev = seg.y[end.start:], seg.y[before:end.start]
    drop = float(np.median(last) - np.median(prev))
    noise = sg.noise_level(seg.y[before:])
    # Standard error of a sample median: sqrt(pi / 2) sigma / sqrt(n).
    error = 1.2533 * noise * np.sqrt(1.0 / last.size + 1.0 / prev.size)
    if w.relative_change(whole, drop) > -th.still_learning_decrease or -drop < th.significance * error:
        return None
    span = f"steps {int(seg.steps[before])}-{int(seg.steps[end.start - 1])}"
    return f"its median {w.change_text(whole, drop)} from the window before ({span})"


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
    end: EndState, whole: Curve, th: DiagnoseThresholds, ctx: DiagnoseContext, history
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
        size = f"x{w.num(10.0**amp)} ({amp:.2f} decades)" if whole.log else w.num(amp * whole.scale)
        parts.append(
            f"oscillates {where}: a typical deviation of {size} around its trend, with the direction "
            f"flipping in {w.percent(flips)} of steps"
        )
    if rising:
        parts.append(f"{w.change_text(whole, end.change)} {where}")
    message = "The training loss " + " and ".join(parts) + "."
    hint = (
        f"{w.upper_first(w.lr_advice(ctx, history))}: lower it 3-10x, or use a decaying schedule "
        "(with warm-up); with minibatches, a larger batch also calms the curve."
    )
    return [Finding("unstable", "warning", message, hint, end.step)]


def check_blowup(loss: Curve, th: DiagnoseThresholds, ctx: DiagnoseContext, history) -> list[Finding]:
    """``unstable`` steps anywhere (typically the first): the loss rose ``blowup_factor`` above its first
    value, short of ``diverged``; not when most of the rise is one step at a redraw of the training points."""
    if not loss.log:
        return []
    peak = int(np.argmax(loss.y))
    rise = float(loss.y[peak] - loss.y[0])
    if rise < np.log10(th.blowup_factor):
        return []
    step = int(loss.steps[peak])
    every = ctx.data_redraw_every
    if every is not None and peak > 0:  # the rise came in one step onto newly drawn points (RAD puts them where
        i = int(np.argmax(np.diff(loss.y[: peak + 1])))  # the residual is large): a new objective, no instability
        if int(loss.steps[i + 1]) % every == 0 and loss.y[i + 1] - loss.y[i] >= 0.5 * rise:
            return []
    back = loss.y[-1] < loss.y[peak] - 0.5 * np.log10(th.blowup_factor)
    message = (
        f"The training loss rose to x{w.num(10.0**rise)} of its first value ({w.num(loss.values[peak])} at "
        f"step {step}, from {w.num(loss.values[0])}){' before coming back down' if back else ''}: those "
        "steps were unstable."
    )
    hint = (
        f"{w.upper_first(w.lr_advice(ctx, history))}: lower it, or warm it up from a small value over the "
        "first steps; clipping gradients also helps."
    )
    return [Finding("unstable", "warning", message, hint, step)]


def check_progress(end: EndState, whole: Curve, th: DiagnoseThresholds) -> list[Finding]:
    """``no_progress``: a positive loss that ended above ``no_progress_fraction`` of its first value, unless
    it got there by a real descent onto a floor (:func:`_fell_onto_floor`)."""
    if not whole.log:
        return []
    final = float(np.median(end.seg.y[end.start :]))
    ratio = 10.0 ** (final - whole.y[0])
    if ratio < th.no_progress_fraction or _fell_onto_floor(end, whole, final, th):
        return []
    message = (
        f"The training loss ended at {w.num(10.0**final)}, x{ratio:.2g} of its first value "
        f"({w.num(whole.values[0])}): the model has hardly learned."
    )
    hint = (
        "Check the learning rate (too high saturates units, too low barely moves them), that the output "
        "activation and loss fit the task, the scaling of inputs and targets, and the model's size; if this "
        "level is the noise floor of the data, there is nothing to learn."
    )
    return [Finding("no_progress", "warning", message, hint, end.last_step)]


def _fell_onto_floor(end: EndState, whole: Curve, final: float, th: DiagnoseThresholds) -> bool:
    """True when the loss fell far beyond its noise, step by step, and levelled off at the end.

    A loss with a high floor (a likelihood in nats, whose minimum is the data's entropy; BCE on grey
    pixels) cannot fall far below its first value, so the ratio alone would call a finished training stuck.
    Each condition keeps a case out: ``no_progress_noise`` a flat noisy curve, ``no_progress_step_share`` a
    level reached in one step (an outlying first value, or the way down from a blow-up), and
    ``no_progress_levelled`` a slow descent still under way (e.g. too low a learning rate); a final-window
    trend within its noise (t below ``significance``) counts as levelled.
    """
    fall = float(whole.y[0] - final)
    if fall <= 0 or fall < th.no_progress_noise * sg.noise_level(whole.y):
        return False
    drops = -np.diff(sg.running_min(whole.y))
    if drops.size == 0 or float(np.max(drops)) > th.no_progress_step_share * fall:
        return False
    run_rate = fall / max(1, int(whole.steps[-1] - whole.steps[0]))
    end_rate = -end.change / max(1, end.last_step - end.step)
    return end.t < th.significance or end_rate <= th.no_progress_levelled * run_rate


# ------------------------------------------------------------------------------------------------- jumps
def check_jumps(
    loss: Curve, th: DiagnoseThresholds, ctx: DiagnoseContext, before: int | None, skip_from: int | None
) -> list[Finding]:
    """Isolated upward spikes, per phase; none at or after ``before`` (divergence) or ``skip_from``
    (a window already reported as unstable), and none where the training data were redrawn
    (``ctx.data_redraw_every``: the loss there is measured on new points)."""
    min_rise = float(np.log10(th.jump_factor))
    hits: list[tuple[int, float]] = []  # (step, rise in y)
    for seg in phase_segments(loss):
        if len(seg) < th.min_steps:
            continue
        width = sg.odd_width(len(seg) - 1, 0.1, minimum=2 * th.min_window + 1)
        for i in sg.upward_spikes(seg.y, width, th.jump_z, min_rise):
            step = int(seg.steps[i + 1])
            redrawn = ctx.data_redraw_every is not None and step % ctx.data_redraw_every == 0
            if (before is None or step < before) and (skip_from is None or step < skip_from) and not redrawn:
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
