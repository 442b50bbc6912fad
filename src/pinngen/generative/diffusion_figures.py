"""Figures of a diffusion run: sample grids (one row per class when conditional), the denoising trajectory,
the loss per noise level over training, and 2-D samples against the data."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from pinngen.generative import diffusion_data as D
from pinngen.report.draw import TERM_COLORS, new_figure, save_png
from pinngen.report.plots_predictions import plot_image_grid


def plot_samples(model, spec, samples, ev, key, path: Path) -> None:
    from pinngen.generative.diffusion_experiment import draw

    g = ev.grid
    k = spec["num_classes"]
    if k:  # one row per class: the same class label for a whole row
        rows, labels = [], []
        for c in range(k):
            x = draw(model, spec, g, jax.random.fold_in(key, 100 + c), labels=np.full(g, c), batch_size=g)
            rows.append(D.from_model_space(np.asarray(x), spec))
            labels.append(spec["classes"][c] if c < len(spec["classes"]) else str(c))
        guid = spec["sampling"]["guidance"]
        title = "Samples per class" + (f" (guidance {guid:g})" if guid is not None else "")
        plot_image_grid(rows, path, row_labels=labels, title=title)
        return
    n_rows = max(1, min(4, len(samples) // g))
    rows = [samples[i * g:(i + 1) * g] for i in range(n_rows)]
    plot_image_grid(rows, path, title=f"Samples ({spec['sampling']['sampler']})")


def plot_trajectory(model, spec, n: int, key, path: Path) -> None:
    """x_t at several t for ``n`` samples (DDPM ancestral chain), noise on the left, data on the right."""
    from pinngen.generative.diffusion_experiment import draw

    T = spec["diffusion"]["T"]
    times = sorted({T - 1, int(0.8 * T), int(0.6 * T), int(0.4 * T), int(0.2 * T), int(0.1 * T), 0}, reverse=True)
    x, traj = draw(model, spec, n, jax.random.fold_in(key, 7), sampler="ddpm", trajectory=times, batch_size=n)
    traj = np.asarray(traj)  # (len(times), n, *shape)
    cols = [D.from_model_space(np.clip(traj[i], -1, 1), spec) for i in range(len(times))]
    rows = [np.stack([c[j] for c in cols]) for j in range(n)]
    plot_image_grid(rows, path, row_labels=[f"sample {j + 1}" for j in range(n)],
                    title="Denoising trajectory: x_t at t = " + ", ".join(str(t) for t in times))


def plot_buckets(history, path: Path) -> None:
    cols = [c for c in history.columns if c.startswith("metric/loss_t")]
    if not cols:
        return
    fig = new_figure(7.5, 4.2)
    ax = fig.subplots()
    steps = history.column("step") if "step" in history else np.arange(len(history))
    for i, c in enumerate(cols):
        v = history.column(c)
        ok = np.isfinite(v)
        ax.plot(steps[ok], v[ok], color=TERM_COLORS[i % len(TERM_COLORS)] if i < 8 else None,
                label=c.removeprefix("metric/loss_"), lw=1.4, marker="o", ms=2.5)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("validation loss")
    ax.set_title("Denoising loss per noise level (fixed validation samples)")
    ax.legend(fontsize=7, ncol=2, title="timesteps", title_fontsize=8)
    save_png(fig, path)


def plot_points(samples, data, path: Path, *, title: str) -> None:
    samples, data = np.asarray(samples), np.asarray(data)
    if samples.ndim != 2 or samples.shape[1] < 2:
        return
    fig = new_figure(8.0, 4.0)
    a, b = fig.subplots(1, 2, sharex=True, sharey=True)
    for ax, pts, name in ((a, data, "held-out data"), (b, samples, "samples")):
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.5, color="#1f77b4" if ax is a else "#d62728")
        ax.set_title(f"{name} ({len(pts)})")
        ax.set_aspect("equal", adjustable="box")
    fig.suptitle(title, fontsize=12, fontweight="bold")
    save_png(fig, path)
