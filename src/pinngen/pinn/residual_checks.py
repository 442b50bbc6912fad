"""Knowing when a PINN's answer is wrong without a reference: the PDE residual off the training points.

A network can drive the residual to nearly zero at its collocation points and still be wrong between them,
or place a shock or front a cell away from where the equation puts it. Both leave a trace in the residual
evaluated on a dense set of points that the training never saw:

- ``residual_off_collocation``: the residual's RMS there is many times its RMS at the training points (read
  from the last recorded ``pde`` terms);
- ``residual_concentrated``: most of the squared residual sits in a thin region (a small share of the points),
  and that region is named, so a misplaced front can be found without knowing the true solution.

Both are warnings only when the dense residual is also large against the training residual: a correct
solution with a steep front also concentrates its (small) residual there, and a run that meets its target
should not be warned about it. For the same reason neither is raised when the dense residual is below
``SMALL`` times the residual the training started from (the untrained network's, the first recorded ``pde``
terms): that is the equation's own scale, and a high-accuracy run whose residual fell by 1e4 there and by 1e6 at
its training points is not wrong between them (a clean Burgers run at rel L2 4e-7 has a dense residual 24x its
training one, at 1e-4 of where it started; a misplaced shock at rel L2 9e-2 keeps it at the starting level).
"""

from __future__ import annotations

import numpy as np

from pinngen.core.findings import Finding

# off-collocation RMS / training RMS above which the gap is a warning
GAP_WARN = 10.0
# share of the dense points that counts as a "thin region", and the share of the squared residual in it
THIN_SHARE = 0.02
CONCENTRATED = 0.5
# dense residual RMS / the starting training residual RMS below which neither finding is raised
SMALL = 1e-3


def training_residual_rms(history, *, at: int = -1) -> float | None:
    """sqrt of the summed last (``at=0``: first) finite ``loss/pde*`` terms: the RMS residual at the training
    points at the end (the start) of training."""
    cols = [c for c in history.columns if c == "loss/pde" or c.startswith("loss/pde_")]
    total = 0.0
    for c in cols:
        v = np.asarray(history.column(c), np.float64)
        v = v[np.isfinite(v)]
        if not len(v):
            return None
        total += float(v[at])
    return float(np.sqrt(total)) if cols else None


def _region(points: np.ndarray, inputs, lo: np.ndarray, hi: np.ndarray) -> str:
    """The 10-90 % extent of ``points`` per input, the inputs it narrows down (below half the domain)."""
    a, b = np.percentile(points, 10, axis=0), np.percentile(points, 90, axis=0)
    parts = [f"{name} in [{a[i]:.3g}, {b[i]:.3g}]" for i, name in enumerate(inputs)
             if b[i] - a[i] < 0.5 * (hi[i] - lo[i])]
    return ", ".join(parts) or "spread over the domain"


def residual_findings(residual: np.ndarray, points: np.ndarray, inputs, bbox, history, *, step: int | None,
                      where: str) -> tuple[list[Finding], dict]:
    """Findings and summary numbers from ``residual`` (n,) = |PDE residual| at dense ``points`` (n, d_in).

    ``where`` says what the points are ("the 25,600 reference points"), ``bbox`` is the domain's (lo, hi)."""
    r2 = np.square(np.asarray(residual, np.float64))
    dense = float(np.sqrt(np.mean(r2)))
    train = training_residual_rms(history)
    summary = {"residual_rms": dense}
    out: list[Finding] = []
    if train is None or not np.isfinite(dense) or train <= 0:
        return out, summary
    ratio = dense / train
    summary.update(train_residual_rms=train, residual_gap=ratio)
    order = np.argsort(r2)[::-1]
    k = max(1, int(round(THIN_SHARE * len(r2))))
    share = float(r2[order[:k]].sum() / max(r2.sum(), 1e-300))
    summary["residual_top2pct_share"] = share
    # the fewest points that carry half of the squared residual: where it sits
    half = int(np.searchsorted(np.cumsum(r2[order]), 0.5 * r2.sum())) + 1
    start = training_residual_rms(history, at=0)
    if start is not None and start > 0:
        summary["residual_vs_start"] = dense / start
    if ratio < GAP_WARN or summary.get("residual_vs_start", 1.0) < SMALL:
        return out, summary
    out.append(Finding(
        "residual_off_collocation", "warning",
        f"The PDE residual on {where} (RMS {dense:.3g}) is {ratio:.0f}x its value at the training points (RMS "
        f"{train:.3g}): the network satisfies the equation where it was trained but not between those points, "
        f"so the solution is likely wrong there even though the training loss is low.",
        "Use more collocation points (collocation.n_domain) or redraw them more often "
        "(collocation.resample_every), try another seed, or add points where the residual is large.",
        step, "loss"))
    if share >= CONCENTRATED:
        lo, hi = (np.asarray(b, np.float64) for b in bbox)
        region = _region(points[order[:half]], inputs, lo, hi)
        out.append(Finding(
            "residual_concentrated", "warning",
            f"Half of the squared residual on {where} sits in {100 * half / len(r2):.2g} % of the points "
            f"({region}): a front or shock there is likely misplaced or smeared.",
            "Put more collocation points there (residual-adaptive resampling), try another seed, or for a "
            "time-dependent problem use causal weighting (weighting.causal) or time marching.",
            step, "loss"))
    return out, summary
