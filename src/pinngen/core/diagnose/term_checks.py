"""Findings about the named loss terms: terms_imbalanced, term_stalled, and those of the family checks
(:mod:`pinngen.core.diagnose.families`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pinngen.core.diagnose import signals as sg
from pinngen.core.diagnose import words as w
from pinngen.core.diagnose.context import DiagnoseContext
from pinngen.core.diagnose.curves import Curve, load_curve
from pinngen.core.diagnose.families import TermView, checks_for
from pinngen.core.diagnose.loss_checks import EndState
from pinngen.core.diagnose.thresholds import DiagnoseThresholds
from pinngen.core.findings import Finding


def check_terms(
    history, loss: Curve, end: EndState, th: DiagnoseThresholds, ctx: DiagnoseContext, family_th: Any = None
) -> list[Finding]:
    """The context family's registered checks first; then balance and stalls of the terms they leave."""
    terms: dict[str, Curve] = {}
    for name in history.term_names():
        curve = load_curve(history, f"loss/{name}")
        if curve is not None and len(curve) >= th.min_steps:
            terms[name] = curve
    finals = {n: _final(c, end.step) for n, c in terms.items()}
    view = TermView(history, loss, end, terms, finals, ctx, th, family_th)
    findings: list[Finding] = []
    owned: set[str] = set()
    for registered in checks_for(ctx.family_name):
        findings += registered.check(view)
        owned |= {n for n in terms if registered.owns(n)}
    # A term a family check spoke about is said once: not again as out of balance.
    reported = {f.series.removeprefix("loss/") for f in findings if f.series}
    starts = {n: _start(c, th) for n, c in terms.items()}
    findings += _imbalanced({n: v for n, v in finals.items() if n not in reported}, starts, end, th)
    findings += _stalled(terms, finals, owned, loss, end, th)
    return findings


def _final(curve: Curve, from_step: int) -> float:
    tail = curve.values[curve.steps >= from_step]
    return float(np.median(tail if tail.size else curve.values[-1:]))


def _start(curve: Curve, th: DiagnoseThresholds) -> float:
    return float(np.median(curve.values[: th.min_window]))


def _imbalanced(finals: dict[str, float], starts: dict[str, float], end: EndState,
                th: DiagnoseThresholds) -> list[Finding]:
    positive = {n: v for n, v in finals.items() if v > 0}
    if len(positive) < 2:
        return []
    big = max(positive, key=positive.get)
    small = min(positive, key=positive.get)
    ratio = positive[big] / positive[small]
    if ratio < th.terms_ratio or positive[big] < th.terms_settled * starts[big]:
        return []
    message = (
        f"At the end, the (unweighted) loss term '{big}' ({w.num(positive[big])}) is {w.num(ratio)} times "
        f"'{small}' ({w.num(positive[small])})."
    )
    hint = (
        f"The optimizer mostly sees '{big}': rescale (non-dimensionalise) the problem so the terms are of "
        f"similar size, or balance them with term weights or gradient-norm balancing (e.g. learning-rate "
        "annealing, Wang, Teng & Perdikaris 2021)."
    )
    return [Finding("terms_imbalanced", "warning", message, hint, end.last_step, f"loss/{big}")]


def _stalled(
    terms: dict[str, Curve],
    finals: dict[str, float],
    owned: set[str],
    loss: Curve,
    end: EndState,
    th: DiagnoseThresholds,
) -> list[Finding]:
    names = [n for n in terms if n not in owned]
    if len(names) < 2:
        return []
    total_falls = (
        end.t >= th.significance and w.relative_change(loss, end.change) <= -th.still_learning_decrease
    )
    largest = max(abs(finals[n]) for n in names)
    ratios = {n: _ratio(finals[n], _start(terms[n], th)) for n in names}
    findings = []
    for name in names:
        curve = terms[name]
        hint = (
            f"Raise the weight of '{name}' or balance the terms adaptively (gradient-norm balancing); check "
            "that this condition can be met (consistent data, enough points where it applies)."
        )
        tail = curve.steps >= end.step
        if total_falls and tail.sum() >= 3 and abs(finals[name]) >= th.term_stall_share * largest:
            x = curve.steps[tail].astype(np.float64)
            y = curve.y[tail]
            ys = sg.smooth(y, sg.odd_width(y.size, th.smooth_fraction))
            change, _ = sg.trend(x, ys, sg.noise_level(y))
            rel = w.relative_change(curve, change)
            if abs(rel) < th.term_flat_change:
                message = (
                    f"Loss term '{name}' is flat over {w.window_text(th.final_fraction)} (changed "
                    f"{w.percent(rel)}) while the total loss {w.change_text(loss, end.change)}: it has "
                    "stalled."
                )
                findings.append(Finding("term_stalled", "warning", message, hint, end.step, f"loss/{name}"))
                continue
        others = [ratios[n] for n in names if n != name and ratios[n] is not None]
        own = ratios[name]
        if own is None or not others:
            continue
        others_med = float(np.median(others))
        if th.term_stall_self <= own <= 1 / th.term_stall_self and others_med <= th.term_stall_others:
            message = (
                f"Loss term '{name}' ended at {w.num(finals[name])}, x{own:.2g} of its start, while the "
                f"other terms fell to x{others_med:.2g} of theirs (median): it has stalled."
            )
            findings.append(Finding("term_stalled", "warning", message, hint, end.last_step, f"loss/{name}"))
    return findings


def _ratio(final: float, start: float) -> float | None:
    return final / start if final > 0 and start > 0 else None

