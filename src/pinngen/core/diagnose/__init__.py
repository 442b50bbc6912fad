"""diagnose(): loss curves in, findings in words out.

The lecture's advice, made automatic: *always check your loss function!* It should go down smoothly and
flatten out at the end of training. Not flat? You are still learning. Too flat? You may be overfitting.
Jumps are expected with discontinuous activations such as ReLU. With regularisation such as dropout the
validation loss can be below the training loss. The right learning rate depends on the optimizer.

Everything here is a pure function of the recorded arrays (:class:`~pinngen.core.history.History`); every
number that decides a finding is a field of :class:`DiagnoseThresholds` (or of a family's registered thresholds).

Finding codes: ``diverged`` (error), ``still_learning``, ``converged`` (info), ``no_progress``,
``unstable``, ``jumps``, ``overfitting``, ``val_below_train``, ``terms_imbalanced``, ``term_stalled``,
``too_short``, ``adversarial`` (info), and those of the checks a model family registers for its own terms
(:func:`register_check`; e.g. the generative family's).

What the trainer knows about the run comes as a :class:`DiagnoseContext` (or a dict of its fields). A run
with several objectives (``history.meta["objectives"]``, e.g. a GAN's generator and discriminator) is
judged objective by objective, each finding's message prefixed with its objective.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pinngen.core.diagnose.context import DiagnoseContext, resolve_context
from pinngen.core.diagnose.curves import Curve, last_phase, load_curve
from pinngen.core.diagnose.families import (
    FamilyCheck,
    TermView,
    register_check,
    register_thresholds,
    resolve_thresholds,
)
from pinngen.core.diagnose.loss_checks import (
    EndState,
    check_blowup,
    check_diverged,
    check_jumps,
    check_progress,
    check_trend,
    check_unstable,
    end_state,
    oscillation,
    too_short,
)
from pinngen.core.diagnose.objectives import (
    objective_history,
    objective_label,
    objective_series,
    objectives_of,
)
from pinngen.core.diagnose.summary import _RANK, sort_findings, summarize
from pinngen.core.diagnose.term_checks import check_terms
from pinngen.core.diagnose.thresholds import DiagnoseThresholds, validate_numbers
from pinngen.core.diagnose.val_checks import check_validation
from pinngen.core.findings import Finding
from pinngen.core.optim import is_quasi_newton, quasi_newton_title

__all__ = [
    "DiagnoseContext",
    "DiagnoseThresholds",
    "FamilyCheck",
    "TermView",
    "diagnose",
    "register_check",
    "register_thresholds",
    "summarize",
    "validate_numbers",
]


def diagnose(
    history,
    *,
    context: DiagnoseContext | Mapping[str, Any] | None = None,
    thresholds: DiagnoseThresholds | None = None,
    **overrides: Any,
) -> list[Finding]:
    """Findings about a run's loss curves, most severe first, then by step.

    Args:
        history: a :class:`~pinngen.core.history.History` (columns ``loss``, ``loss/<term>``, ``lr``,
            ``val/loss``; recorded non-finite values stored as +inf, NaN meaning "not recorded").
        context: a :class:`DiagnoseContext` (used as it is) or a dict of its fields (merged over
            ``history.meta["context"]``, which ``fit`` stores). It changes wording and severity (ReLU
            jumps, dropout's val < train, learning-rate advice) and names the family whose registered
            checks run. Without an ``optimizer`` the last phase's name is used, without ``lr`` the last
            recorded ``lr``.
        thresholds: a :class:`DiagnoseThresholds`; default: its defaults.
        **overrides: threshold fields to replace, core ones (e.g. ``still_learning_decrease=0.1``) or the
            context family's; an unknown name raises ValueError listing the valid ones.

    The final state (still learning, converged, unstable, validation and term findings) is judged on the
    last optimizer phase; divergence and jumps anywhere. A run that ends diverged gets no final-state
    findings, and one with fewer than ``min_steps`` recorded losses only ``too_short`` (and ``diverged``).
    """
    ctx = resolve_context(context, history)
    th, family_th = resolve_thresholds(thresholds, overrides, ctx.family_name)
    return _diagnose(history, ctx, th, family_th)


def _diagnose(history, ctx: DiagnoseContext, th: DiagnoseThresholds, family_th: Any) -> list[Finding]:
    objectives = objectives_of(history)
    if len(objectives) > 1:
        return _per_objective(history, objectives, ctx, th, family_th)
    if (history.meta.get("windows") or 1) > 1:
        return _per_window(history, ctx, th, family_th)
    loss = load_curve(history, "loss")
    findings, first_bad, broken = check_diverged(history, loss, th, ctx)
    if loss is None or len(loss) < th.min_steps:
        return sort_findings([*findings, too_short(0 if loss is None else len(loss), th)])
    unstable: list[Finding] = []
    if not broken:
        end = end_state(last_phase(loss, th.min_steps), th)
        if ctx.adversarial:
            findings.append(_adversarial(end))
        else:
            unstable = check_unstable(end, loss, th, ctx, history)
            findings += unstable
            findings += _final_state(history, loss, end, th)
        findings += check_validation(history, loss, th, ctx)
        findings += check_terms(history, loss, end, th, ctx, family_th)
    if first_bad is None:
        findings += check_blowup(loss, th, ctx, history)
    skip_from = unstable[0].step if unstable else None
    findings += check_jumps(loss, th, ctx, before=first_bad, skip_from=skip_from)
    return sort_findings(findings)


def _per_objective(history, objectives: dict[str, list[str]], ctx: DiagnoseContext, th: DiagnoseThresholds,
                   family_th: Any) -> list[Finding]:
    """Each objective of a multi-objective run judged as its own training; the summed ``loss`` of players
    pulling against each other is not judged at all."""
    out = []
    for name, terms in objectives.items():
        sub = objective_history(history, name, terms)
        label = objective_label(name)
        out += [replace(f, message=f"{label}: {f.message}", series=objective_series(f.series, name))
                for f in _diagnose(sub, ctx.for_objective(name), th, family_th)]
    return sort_findings(out)


def _per_window(history, ctx: DiagnoseContext, th: DiagnoseThresholds, family_th: Any) -> list[Finding]:
    """A time-marching run (``meta["windows"]``, phases ``w<k>/<name>``) is one training per window; each
    starts afresh, so its curves are diagnosed window by window (a new window's higher loss is no jump)."""
    n = history.meta["windows"]
    groups: dict[tuple[str, str], list[tuple[int, Finding]]] = {}
    for k in range(1, n + 1):
        # each window's own step numbers: its redraws (every ctx.data_redraw_every) and phases count from 0
        sub = history.subset(lambda phase, k=k: phase.startswith(f"w{k}/"), strip_prefix=f"w{k}/", rebase=True)
        sub.meta = {**history.meta, "windows": 1,
                    "phases": [p for p in history.meta.get("phases", []) if p.get("window") == k]}
        if len(sub):
            first = int(history.steps[[p.startswith(f"w{k}/") for p in history.phases].index(True)])
            for f in _diagnose(sub, ctx, th, family_th):  # messages count the window's steps, .step the run's
                f = f if f.step is None else replace(f, step=f.step + first)
                groups.setdefault((f.code, f.severity), []).append((k, f))
    # One finding per code, however many windows share it (ten windows that each end "still learning" are
    # one statement, not ten); quoted from the first window that has it, ranked by severity, then by reach.
    out = []
    for items in groups.values():
        k0, f0 = items[0]
        if len(items) == 1:
            out.append((1, replace(f0, message=f"Window {k0}: {f0.message}")))
        else:
            others = _ranges([k for k, _ in items[1:]])
            out.append((len(items), replace(f0, message=f"Window {k0} (and {others} alike: {len(items)} of {n} "
                                                        f"windows): {f0.message}")))
    ranked = sort_findings(f for _, f in out)
    reach = {id(f): c for c, f in out}
    return sorted(ranked, key=lambda f: (-_RANK[f.severity], -reach[id(f)]))


def _ranges(ks: list[int]) -> str:
    """[2, 3, 4, 7] -> "windows 2-4, 7"."""
    parts, start = [], ks[0]
    for a, b in zip(ks, [*ks[1:], None], strict=True):
        if b != a + 1:
            parts.append(f"{start}" if start == a else f"{start}-{a}")
            start = b
    return ("window " if len(ks) == 1 else "windows ") + ", ".join(parts)


def _adversarial(end: EndState) -> Finding:
    return Finding(code="adversarial", severity="info", step=end.last_step,
                   message="This objective plays against another one: its loss settles where the players "
                           "balance, so its level and trend say little about progress and are not judged.",
                   hint="Judge the model by what it produces (samples and their metrics), not by this curve.")


def _final_state(history, loss: Curve, end: EndState, th: DiagnoseThresholds) -> list[Finding]:
    """still_learning / converged / no_progress: flat at a level hardly below the start is not
    "converged" but "no progress"."""
    stuck = check_progress(end, loss, th)
    trend = check_trend(end, loss, th, "val/loss" in history, oscillation(end, th)[0])
    trend = _lbfgs_stopped_by_tolerance(history, trend, end)
    return [*stuck, *(f for f in trend if not (stuck and f.code == "converged"))]


_TOLERANCE_STOPS = {
    "grad_tol": "its gradient norm fell below tol_grad",
    "loss_change_tol": "the loss stopped changing (relative change below tol_change for 5 steps)",
    "line_search_failed": "its line search found no step that lowers the loss (the precision floor)",
}


def _lbfgs_stopped_by_tolerance(history, trend: list[Finding], end: EndState) -> list[Finding]:
    """A quasi-Newton phase (L-BFGS, BFGS, SSBFGS, SSBroyden) that stopped on its own tolerance has converged
    as far as its precision allows, even when the curve was still falling steeply just before: that is a
    superlinear finish, not unfinished training. A steep fall into a loss-change stop usually means float32
    ran out of digits."""
    phases = history.meta.get("phases") or []
    last = phases[-1] if phases else {}
    reason = last.get("stop_reason")
    if not is_quasi_newton(last.get("optimizer")) or reason not in _TOLERANCE_STOPS:
        return trend
    out = [f for f in trend if f.code not in ("still_learning", "converged")]
    falling = any(f.code == "still_learning" for f in trend)
    hint = ("The curve was still falling when it stopped: in float32 the line search runs out of digits; "
            "set dtype: float64 to polish further." if falling and reason != "grad_tol"
            else "Nothing to do; more steps would not change the result at this tolerance.")
    out.append(Finding(code="converged", severity="info", step=end.last_step,
                       message=f"{quasi_newton_title(last['optimizer'])} stopped after {last.get('steps_run')} "
                               f"steps because "
                               f"{_TOLERANCE_STOPS[reason]}: converged to its tolerance.",
                       hint=hint))
    return out
