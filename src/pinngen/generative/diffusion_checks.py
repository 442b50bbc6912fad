"""diagnose() checks of the diffusion family: ``noise_levels``.

A diffusion model's loss is logged per timestep bucket (``t0-99``, ``t100-199``, ...). Those terms are not
competing conditions: each noise level is its own regression, and some levels cannot fall far by design (with
epsilon prediction, the noise in an almost clean image is nearly unpredictable, so the lowest bucket stays
high; with x0 prediction it is the noisiest bucket). So the generic ``term_stalled`` advice ("raise its
weight") is wrong here; this check judges the buckets instead: an info saying which levels fell least, and a
warning when a level did not fall at all while the others did (that noise level is not being learned).

Registered on import (``pinngen.generative.diffusion_experiment`` imports this module) for runs whose context
names the family: ``DiagnoseContext(family_name="diffusion", family={"prediction": "epsilon"})``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pinngen.core.diagnose import TermView, register_check, register_thresholds, validate_numbers
from pinngen.core.diagnose.words import num
from pinngen.core.findings import Finding

FAMILY = "diffusion"
_BUCKET = re.compile(r"^t(\d+)-(\d+)$")


def is_bucket(name: str) -> bool:
    return _BUCKET.match(name) is not None


@dataclass(frozen=True)
class DiffusionThresholds:
    """Thresholds of the diffusion family's checks (override like the core ones)."""

    level_flat_ratio: float = 0.9
    """A bucket whose final loss is above this fraction of its first value has not been learned ..."""
    level_others_ratio: float = 0.5
    """... when the median bucket fell below this fraction of its start."""

    def __post_init__(self) -> None:
        validate_numbers(self, "threshold")


def noise_levels(view: TermView) -> list[Finding]:
    buckets = sorted((n for n in view.terms if is_bucket(n)), key=lambda n: int(_BUCKET.match(n).group(1)))
    if len(buckets) < 2:
        return []
    th: DiffusionThresholds = view.family_thresholds or DiffusionThresholds()
    ratio = {}
    for n in buckets:
        c = view.terms[n]
        first = float(np.median(c.values[: max(1, min(len(c.values) // 20, 20))]))
        ratio[n] = view.finals[n] / first if first > 0 else np.nan
    ok = {n: r for n, r in ratio.items() if np.isfinite(r)}
    if not ok:
        return []
    median = float(np.median(list(ok.values())))
    order = sorted(ok, key=ok.get)
    pred = view.context.family.get("prediction", "epsilon")
    by_design = {"epsilon": "the lowest-noise bucket stays highest by design (the noise in an almost clean image "
                            "is nearly unpredictable)",
                 "x0": "the noisiest bucket stays highest by design (x0 is nearly unknowable from pure noise)",
                 "v": "v prediction balances the levels, so large differences point at levels not yet learned"}
    out = [Finding("noise_levels", "info",
                   f"Loss per noise level, final / first: best {order[0]} x{num(ok[order[0]])}, worst "
                   f"{order[-1]} x{num(ok[order[-1]])}, median x{num(median)}. With {pred} prediction "
                   f"{by_design.get(pred, '')}.",
                   "Read the per-level curves (metric/loss_t...) to see which noise levels are still improving.",
                   view.end.last_step, None)]
    flat = [n for n in order if ok[n] > th.level_flat_ratio]
    if flat and median < th.level_others_ratio:
        out.append(Finding("noise_level_unlearned", "warning",
                           f"Noise level(s) {', '.join(flat)} barely fell (final/first above "
                           f"{num(th.level_flat_ratio)}) while the median level fell to x{num(median)}.",
                           "If this is not the by-design level above, try min-SNR weighting "
                           "(diffusion.weighting: min_snr) or v prediction, and train longer.",
                           view.end.last_step, f"loss/{flat[0]}"))
    return out


register_check(FAMILY, noise_levels, terms=is_bucket)
register_thresholds(FAMILY, DiffusionThresholds())
