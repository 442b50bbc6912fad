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
