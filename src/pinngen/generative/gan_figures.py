"""Figures of a GAN run: the sample grid (one row per class when conditional) or 2-D samples against the data,
and the training panel: both players' losses, the discriminator's accuracy on real and generated samples, the
generator's gradient norm, and the tracked sample-quality measure."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from pinngen.generative import diffusion_data as D
from pinngen.report.draw import TERM_COLORS, moving_average, new_figure, no_data, save_png
from pinngen.report.plots_predictions import plot_image_grid

PROGRESS = ("fd_features", "fd_pixels", "energy")


def plot_samples(model, spec, samples, data, ev, key, path: Path) -> None:
    from pinngen.generative.gan_experiment import draw

    if data.kind != "image":
        plot_points(samples, data.raw_test, path, title=f"GAN samples vs held-out {data.dataset}")
        return
    g, k = ev.grid, spec["num_classes"]
    if k:  # one row per class
        rows = [D.from_model_space(draw(model, spec, g, jax.random.fold_in(key, 100 + c), labels=np.full(g, c)),
                                   spec) for c in range(k)]
        labels = [spec["classes"][c] if c < len(spec["classes"]) else str(c) for c in range(k)]
        plot_image_grid(rows, path, row_labels=labels, title="GAN samples per class")
        return
    n_rows = max(1, min(4, len(samples) // g))
    plot_image_grid([samples[i * g:(i + 1) * g] for i in range(n_rows)], path, title="GAN samples")


def plot_points(samples, data, path: Path, *, title: str) -> None:
    samples, data = np.asarray(samples), np.asarray(data)
    if samples.ndim != 2 or samples.shape[1] < 2:
        return
    fig = new_figure(8.0, 4.0)
    a, b = fig.subplots(1, 2, sharex=True, sharey=True)
    for ax, pts, name, color in ((a, data, "held-out data", "#1f77b4"), (b, samples, "samples", "#d62728")):
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.5, color=color)
        ax.set_title(f"{name} ({len(pts)})")
        ax.set_aspect("equal", adjustable="box")
    fig.suptitle(title, fontsize=12, fontweight="bold")
    save_png(fig, path)


def _series(history, name):
    if name not in history:
        return None
    s, v = history.series(name)
    ok = np.isfinite(v)
    return (s[ok], v[ok]) if ok.any() else None


def _smooth_line(ax, history, name, color, label, log=False):
    got = _series(history, name)
    if got is None:
        return False
    s, v = got
    ax.plot(s, v, color=color, alpha=0.25, lw=0.8)
    ax.plot(s, moving_average(v) if len(v) > 5 else v, color=color, lw=1.6, label=label)
    if log and np.all(v > 0):
        ax.set_yscale("log")
    return True


def plot_training(history, path: Path) -> None:
    """Four panels: losses of both players; discriminator accuracy; generator gradient norm; progress."""
    fig = new_figure(11.0, 7.5)
    (a, b), (c, d) = fig.subplots(2, 2)
    drawn = [_smooth_line(a, history, f"loss/{p}", TERM_COLORS[i], p) for i, p in
             enumerate(("discriminator", "generator"))]
    a.set_title("Loss of each player (raw and smoothed)")
    a.set_xlabel("step")
    if any(drawn):
        a.legend(fontsize=8)
    else:
        no_data(a, "no losses recorded")
    ok = False
    for i, (name, label) in enumerate((("d_acc_real", "on real samples"), ("d_acc_fake", "on generated samples"))):
        got = _series(history, f"metric/{name}")
        if got is not None:
            b.plot(*got, marker="o", ms=3, color=TERM_COLORS[i], label=label)
            ok = True
    b.set_ylim(-0.03, 1.03)
    b.axhline(0.5, color="0.6", lw=0.8, ls="--")
    b.set_title("Discriminator accuracy (tracked)")
    b.set_xlabel("step")
    if ok:
        b.legend(fontsize=8)
    else:
        no_data(b, "not tracked")
    if _smooth_line(c, history, "grad_norm/generator", TERM_COLORS[1], "generator", log=True):
        _smooth_line(c, history, "grad_norm/discriminator", TERM_COLORS[0], "discriminator", log=True)
        c.legend(fontsize=8)
    else:
        no_data(c, "no gradient norms recorded")
    c.set_title("Gradient norm of each player")
    c.set_xlabel("step")
    name = next((p for p in PROGRESS if f"metric/{p}" in history), None)
    got = _series(history, f"metric/{name}") if name else None
    if got is not None:
        d.plot(*got, marker="o", ms=3, color=TERM_COLORS[2], label=name)
        div = _series(history, "metric/diversity")
        if div is not None:
            twin = d.twinx()
            twin.plot(*div, marker="s", ms=2.5, color=TERM_COLORS[3], lw=1, label="diversity (right)")
            twin.set_ylabel("diversity: sample spread / data spread", fontsize=8)
            twin.legend(fontsize=8, loc="upper center")
        d.set_title(f"Sample quality: {name} (lower is better)")
        d.legend(fontsize=8, loc="upper right")
    else:
        no_data(d, "not tracked")
    d.set_xlabel("step")
    fig.suptitle("GAN training: both players", fontsize=12, fontweight="bold")
    save_png(fig, path)
