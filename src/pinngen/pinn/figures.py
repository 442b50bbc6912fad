"""Figures of a PINN run on its reference grid: field comparison, time slices, residual map."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def residual_map(x, y, res, path, *, xlabel="x", ylabel="y", title="|PDE residual|") -> Path:
    """|residual| (len(y), len(x)) on a log colour scale."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    res = np.abs(np.asarray(res, float))
    fig = Figure(figsize=(6, 4.2), dpi=110)
    ax = fig.subplots()
    pos = res[res > 0]
    lo = float(np.percentile(pos, 1)) if pos.size else 1e-12
    hi = float(res.max()) if pos.size else 1.0
    mesh = ax.pcolormesh(x, y, np.maximum(res, lo), shading="auto", cmap="magma",
                         norm=LogNorm(vmin=lo, vmax=max(hi, lo * 10)), rasterized=True)
    fig.colorbar(mesh, ax=ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} (rms {np.sqrt(np.mean(res**2)):.2e})", fontsize=10)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    return path


def fields(problem, ref, pred: np.ndarray, res: np.ndarray, figs: Path, *, n_slices: int = 4) -> list[Path]:
    """Write field_<output>.png, slices[_<output>].png (time problems) and residual.png."""
    from pinngen.report.plots import plot_field_comparison, plot_slices

    x, y = ref.axes
    xl, yl = problem.inputs
    written = []
    for i, name in enumerate(problem.outputs):
        suffix = "" if len(problem.outputs) == 1 else f"_{name}"
        p, r = ref.grid(pred[:, i]), ref.grid(ref.values[:, i])
        written.append(plot_field_comparison(x, y, p, r, figs / f"field{suffix}.png", xlabel=xl, ylabel=yl,
                                             title=f"{problem.name}: {name}"))
        if problem.time is not None:
            written.append(plot_slices(x, y, p, r, figs / f"slices{suffix}.png", n_slices=n_slices, xlabel=xl,
                                       cut_label=yl, value_label=name))
    written.append(residual_map(x, y, ref.grid(res), figs / "residual.png", xlabel=xl, ylabel=yl))
    return written


TARGETS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7)


def time_to_accuracy(history) -> dict[str, float]:
    """``{"time_to_rel_l2_1e-3": seconds, ...}``: the training clock (history ``time``, compile included) when
    the relative L2 error on the reference subsample (``metric/rel_l2``) first reached each level."""
    if "metric/rel_l2" not in history or "time" not in history:
        return {}
    err = np.asarray(history.column("metric/rel_l2"), float)
    t = np.asarray(history.column("time"), float)
    ok = np.isfinite(err) & np.isfinite(t)
    out = {}
    for level in TARGETS:
        hit = np.flatnonzero(ok & (err <= level))
        if hit.size:
            out[f"time_to_rel_l2_{level:.0e}".replace("e-0", "e-")] = float(t[hit[0]])
    return out


def error_vs_time(history, path) -> Path | None:
    """The relative L2 error on the reference subsample against training seconds (log-log), with the
    optimizer phases marked: time to a given accuracy is read off it."""
    if "metric/rel_l2" not in history or "time" not in history:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    err = np.asarray(history.column("metric/rel_l2"), float)
    t = np.asarray(history.column("time"), float)
    phase = np.asarray(history.column("phase")) if "phase" in history else None
    ok = np.isfinite(err) & np.isfinite(t) & (err > 0) & (t > 0)
    if ok.sum() < 2:
        return None
    fig = Figure(figsize=(6.4, 4.0), dpi=110)
    ax = fig.subplots()
    if phase is not None:
        names = list(dict.fromkeys(phase[ok]))
        for i, name in enumerate(names):
            sel = ok & (phase == name)
            ax.loglog(t[sel], err[sel], "-o", ms=2.5, lw=1.4, label=str(name), color=f"C{i % 10}")
        ax.legend(fontsize=8, frameon=False)
    else:
        ax.loglog(t[ok], err[ok], "-o", ms=2.5, lw=1.4)
    for level in TARGETS:
        if err[ok].min() <= level <= err[ok].max():
            ax.axhline(level, color="0.75", lw=0.7, ls=":")
    ax.set_xlabel("training time (s, compile included)")
    ax.set_ylabel("relative L2 error")
    ax.set_title("Error against time", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    return path
