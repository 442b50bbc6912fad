"""diagnose() checks of the GAN family: ``discriminator_wins``, ``mode_collapse``, ``gan_oscillation``,
``gan_non_finite_samples`` and an info ``gan_progress``.

A GAN's two losses oppose each other, so the core judges neither's level (both groups are adversarial); these
checks read what the run tracked every ``eval_every`` steps (:mod:`pinngen.generative.gan_tracking`,
``metric/<name>``) beside the generator's own loss and gradient norm. They run once, in the generator's view
of the run (the objective whose term is ``g_adv``). A non-finite loss is the core's ``diverged`` finding (the
loop stops there and keeps the last finite parameters).

Registered on import (``pinngen.generative.gan_experiment`` imports this module) for runs whose context names
the family: ``DiagnoseContext(family_name="gan", family={"loss": ..., "progress": "fd_features", ...})``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pinngen.core.diagnose import TermView, register_check, register_thresholds, validate_numbers
from pinngen.core.diagnose.words import num
from pinngen.core.findings import Finding

FAMILY = "gan"
TERMS = ("d_real", "d_fake", "g_adv", "r1")
PROGRESS = ("fd_features", "fd_pixels", "energy")


@dataclass(frozen=True)
class GanThresholds:
    """Thresholds of the GAN family's checks; override them like the core ones
    (``pinngen diagnose RUN --set d_wins_accuracy=0.9``)."""

    d_wins_accuracy: float = 0.95
    """``discriminator_wins``: the discriminator classifies at least this share of real *and* of generated
    samples correctly in each of the last ``d_wins_evals`` evaluations ..."""
    d_wins_evals: int = 2
    """... (evaluations) while the generator's loss rose over the second half of training."""
    collapse_class_ratio: float = 0.25
    """``mode_collapse``: the least produced class below this fraction of its share of the data ..."""
    collapse_diversity: float = 0.5
    """... or the samples' spread below this fraction of the data's (or a 2-D toy mode missing)."""
    swing_ratio: float = 0.25
    """``gan_oscillation``: the progress measure swings by more than this fraction of its median over the
    second half of training ..."""
    progress_gain: float = 0.05
    """... without beating its first-half best by this fraction."""
    min_evals: int = 6
    """Evaluations the oscillation check needs."""
    saturation_ratio: float = 0.01
    """``discriminator_wins`` with the minimax loss: the generator's gradient norm fell below this fraction of
    its peak (the saturation the non-saturating loss avoids)."""

    def __post_init__(self) -> None:
        validate_numbers(self, "threshold", fractions=("d_wins_accuracy", "collapse_class_ratio",
                                                       "collapse_diversity", "progress_gain", "saturation_ratio"))


def _metric(view: TermView, name: str) -> tuple[np.ndarray, np.ndarray]:
    h = view.history
    if f"metric/{name}" not in h:
        return np.zeros(0, np.int64), np.zeros(0)
    steps, values = h.series(f"metric/{name}")
    ok = np.isfinite(values)
    return steps[ok], values[ok]


def _is_generator(view: TermView) -> bool:
    return "g_adv" in (view.history.meta.get("term_names") or view.terms)


def _best(view: TermView) -> tuple[str, np.ndarray, np.ndarray] | None:
    name = view.context.family.get("progress")
    if name not in PROGRESS:
        return None
    steps, values = _metric(view, name)
    return (name, steps, values) if len(values) else None


def _keep_best_hint(view: TermView) -> str:
    best = _best(view)
    if best is None:
        return ""
    name, steps, values = best
    i = int(np.argmin(values))
    return (f" Its best samples by metric/{name} ({num(values[i])}) were at step {int(steps[i])}: keep that "
            f"model with train.early_stopping {{monitor: metric/{name}, restore_best: true}}.")


def discriminator_wins(view: TermView) -> list[Finding]:
    th: GanThresholds = view.family_thresholds or GanThresholds()
    _, real = _metric(view, "d_acc_real")
    _, fake = _metric(view, "d_acc_fake")
    k = th.d_wins_evals
    if len(real) < k or len(fake) < k:
        return []
    if not (np.all(real[-k:] >= th.d_wins_accuracy) and np.all(fake[-k:] >= th.d_wins_accuracy)):
        return []
    v = view.loss.values
    half = len(v) // 2
    if half < 4:
        return []
    q = max(2, half // 5)
    mid, end = float(np.median(v[half - q:half])), float(np.median(v[-q:]))
    spread = float(np.subtract(*np.percentile(v[half:], [75, 25])))
    if not end > mid + 0.5 * max(spread, 1e-3 * abs(mid)):
        return []
    message = (f"The discriminator wins outright: it tells {num(100 * real[-1])} % of real and "
               f"{num(100 * fake[-1])} % of generated samples apart in the last {k} evaluations, while the "
               f"generator's loss rose from {num(mid)} to {num(end)} over the second half of training.")
    gn = view.history.series("grad_norm")[1] if "grad_norm" in view.history else np.zeros(0)
    gn = gn[np.isfinite(gn)]
    if view.context.family.get("loss") == "minimax" and len(gn) > 4:
        peak, last = float(np.max(gn)), float(np.median(gn[-max(2, len(gn) // 10):]))
        if last < th.saturation_ratio * peak:
            message += (f" Its gradient norm fell to {num(last)} from a peak of {num(peak)}: the minimax loss "
                        "has saturated.")
    hint = ("Rebalance the game: lower the discriminator's lr or its steps per generator step, use loss "
            "non_saturating (not minimax) or hinge with model.spectral_norm: true, or add an R1 penalty "
            "(gan.r1_gamma: 1-10)." + _keep_best_hint(view))
    return [Finding("discriminator_wins", "warning", message, hint, view.end.last_step, "metric/d_acc_fake")]


def mode_collapse(view: TermView) -> list[Finding]:
    th: GanThresholds = view.family_thresholds or GanThresholds()
    fam = view.context.family
    reasons, series = [], None
    steps, ratio = _metric(view, "min_class_ratio")
    if len(ratio) and ratio[-1] < th.collapse_class_ratio:
        _, missing = _metric(view, "classes_missing")
        lost = f"; {int(missing[-1])} of {fam.get('classes', '?')} classes almost absent" if len(missing) else ""
        reasons.append(f"the least produced class has {num(ratio[-1])} x its share of the data{lost}")
        series = "metric/min_class_ratio"
    _, modes = _metric(view, "modes_covered")
    if len(modes) and fam.get("modes") and modes[-1] < fam["modes"]:
        reasons.append(f"the samples cover {int(modes[-1])} of the {fam['modes']} modes")
        series = series or "metric/modes_covered"
    _, div = _metric(view, "diversity")
    if len(div) and div[-1] < th.collapse_diversity:
        reasons.append(f"their spread is {num(div[-1])} x the data's")
        series = series or "metric/diversity"
    if not reasons:
        return []
    when = view.history.series(series)[0][-1] if series in view.history else view.end.last_step
    message = "Mode collapse at the last evaluation: " + "; ".join(reasons) + "."
    hint = ("The generator makes a few kinds of sample only. Use loss hinge with model.spectral_norm: true or an "
            "R1 penalty (gan.r1_gamma), lower the generator's lr (TTUR: discriminator lr 2-4x the generator's), "
            "give the discriminator more steps per generator step, or a class-conditional model "
            "(model.conditional: true)." + _keep_best_hint(view))
    return [Finding("mode_collapse", "warning", message, hint, int(when), series)]


def oscillation(view: TermView) -> list[Finding]:
    th: GanThresholds = view.family_thresholds or GanThresholds()
    best = _best(view)
    if best is None or len(best[2]) < th.min_evals:
        return []
    name, steps, q = best
    half = len(q) // 2
    first, second = q[:half], q[half:]
    med = float(np.median(second))
    swing = float(np.max(second) - np.min(second)) / max(abs(med), 1e-12)
    stalled = float(np.min(second)) > (1.0 - th.progress_gain) * float(np.min(first))
    if not (stalled and swing > th.swing_ratio):
        return []
    i = int(np.argmin(first))
    message = (f"Oscillation without progress: over the second half of training metric/{name} swung between "
               f"{num(float(np.min(second)))} and {num(float(np.max(second)))} without beating its first-half "
               f"best, {num(float(first[i]))} at step {int(steps[i])}.")
    hint = ("The players chase each other instead of converging: lower both learning rates (halve them), use "
            "Adam with b1 0.5 or 0.0, average the generator (train.ema), or stabilise the discriminator with "
            "model.spectral_norm: true or gan.r1_gamma." + _keep_best_hint(view))
    return [Finding("gan_oscillation", "warning", message, hint, int(steps[-1]), f"metric/{name}")]


def non_finite_samples(view: TermView) -> list[Finding]:
    steps, bad = _metric(view, "non_finite_samples")
    hit = np.nonzero(bad > 0)[0]
    if not len(hit):
        return []
    return [Finding("gan_non_finite_samples", "error",
                    f"The generator produced non-finite samples (NaN or inf) at step {int(steps[hit[0]])}.",
                    "Lower the learning rates and clip the gradients (groups' clip_norm); the run keeps its last "
                    "finite parameters only when the loss itself turns non-finite.", int(steps[hit[0]]),
                    "metric/non_finite_samples")]


def progress(view: TermView) -> list[Finding]:
    best = _best(view)
    if best is None or len(best[2]) < 2:
        return []
    name, steps, q = best
    i = int(np.argmin(q))
    return [Finding("gan_progress", "info",
                    f"Tracked sample quality metric/{name} (lower is better): {num(float(q[0]))} at step "
                    f"{int(steps[0])}, best {num(float(q[i]))} at step {int(steps[i])}, last {num(float(q[-1]))}.",
                    "Judge a GAN by its samples and this curve, not by its losses.", int(steps[-1]),
                    f"metric/{name}")]


def gan_checks(view: TermView) -> list[Finding]:
    """All GAN checks, once per run: in the generator's view."""
    if not _is_generator(view):
        return []
    return [*non_finite_samples(view), *discriminator_wins(view), *mode_collapse(view), *oscillation(view),
            *progress(view)]


# The players' terms settle where the game balances: no term_stalled / imbalance verdicts about them.
register_check(FAMILY, gan_checks, terms=TERMS)
register_thresholds(FAMILY, GanThresholds())
