"""Minimax saturates early, non-saturating does not: the generator's gradient norm under both losses, one figure.

Trains the same GAN (``gan-toy`` by default: eight Gaussians, MLP players, Adam b1 0.5) with ``gan.loss=minimax``
and with ``gan.loss=non_saturating`` on the same seed(s), everything else equal, with a discriminator that wins
early (by default five discriminator updates per generator update, at lr 2e-3 against the generator's 2e-4:
``STRONG_D``; any ``--set`` replaces them), and plots the generator's gradient norm per step for both (log scale,
raw and smoothed) beside the discriminator's accuracy on generated samples (tracked). Prints, per loss and seed,
the median gradient norm over the early steps and over the last 10 %, and the run's mode coverage / energy-test
p-value. Writes ``bench/out/gan_saturation.png`` and ``.json``.

    python bench/gan_saturation.py [--steps 1000] [--early 300] [--seeds 0 1] [--set KEY=VALUE ...]

Goodfellow et al. (2014, Sec. 3): early in training the discriminator rejects the generator's samples with high
confidence, where ``log(1 - D(G(z)))`` has a vanishing gradient and ``-log D(G(z))`` does not.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

import pinngen
from pinngen.report.draw import moving_average, new_figure, save_png

OUT = Path(__file__).resolve().parent / "out"
LOSSES = ("minimax", "non_saturating")
COLORS = {"minimax": "#d62728", "non_saturating": "#1f77b4"}
STRONG_D = ["train.phases.0.groups.discriminator.steps=5", "train.phases.0.groups.discriminator.lr=0.002",
            "train.phases.0.groups.generator.lr=0.0002", "train.eval_every=100"]


def train(experiment: str, loss: str, seed: int, steps: int, extra: list[str], out: Path):
    sets = [f"gan.loss={loss}", f"train.phases.0.steps={steps}", "evaluation.permutations=50", *extra]
    run = pinngen.run(experiment, out=out / f"{loss}-s{seed}", overrides=sets, seed=seed, progress=False)
    h = run.history
    steps_g, g = h.series("grad_norm/generator")
    acc = h.series("metric/d_acc_fake") if "metric/d_acc_fake" in h else (np.zeros(0), np.zeros(0))
    return run.metrics["summary"], steps_g, g, acc


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--experiment", default="gan-toy")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--early", type=int, default=300, help="steps counted as early")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--set", dest="extra", action="append", default=[], metavar="KEY=VALUE",
                   help="config overrides for both runs (default: STRONG_D)")
    a = p.parse_args()
    a.extra = a.extra or STRONG_D
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    OUT.mkdir(parents=True, exist_ok=True)
    runs_dir = OUT / "gan_saturation_runs"
    fig = new_figure(11.0, 4.2)
    ax_g, ax_a = fig.subplots(1, 2)
    rows = []
    for loss in LOSSES:
        for i, seed in enumerate(a.seeds):
            summary, s, g, (sa, acc) = train(a.experiment, loss, seed, a.steps, a.extra, runs_dir)
            early, late = float(np.median(g[s < a.early])), float(np.median(g[-max(1, len(g) // 10):]))
            rows.append({"loss": loss, "seed": seed, "early_median_grad_norm": early, "late_median_grad_norm": late,
                         "min_grad_norm": float(np.min(g)), "modes_covered": summary.get("modes_covered"),
                         "energy_p_value": summary.get("energy_p_value"),
                         "final_d_acc_fake": summary.get("final_d_acc_fake")})
            label = f"{loss} (seed {seed})" if len(a.seeds) > 1 else loss
            ax_g.plot(s, g, color=COLORS[loss], alpha=0.15, lw=0.6)
            ax_g.plot(s, moving_average(g), color=COLORS[loss], lw=1.6, ls=("-", "--", ":")[i % 3], label=label)
            if len(acc):
                ax_a.plot(sa, acc, color=COLORS[loss], marker="o", ms=3, ls=("-", "--", ":")[i % 3], label=label)
    ax_g.set_yscale("log")
    ax_g.axvspan(0, a.early, color="0.9", zorder=0)
    ax_g.set(title="Generator gradient norm (early steps shaded)", xlabel="step", ylabel="||grad||")
    ax_g.legend(fontsize=8)
    ax_a.set_ylim(-0.03, 1.03)
    ax_a.set(title="Discriminator accuracy on generated samples", xlabel="step")
    ax_a.legend(fontsize=8)
    fig.suptitle(f"{a.experiment}: minimax vs non-saturating generator loss, same seed and players", fontsize=12,
                 fontweight="bold")
    save_png(fig, OUT / "gan_saturation.png")
    (OUT / "gan_saturation.json").write_text(json.dumps({"args": vars(a), "rows": rows}, indent=1))
    print(f"| loss | seed | median grad norm, steps < {a.early} | last 10 % | min | modes | energy p |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['loss']} | {r['seed']} | {r['early_median_grad_norm']:.3g} | {r['late_median_grad_norm']:.3g} | "
              f"{r['min_grad_norm']:.3g} | {r['modes_covered']} | {r['energy_p_value']} |")
    print(f"figure: {OUT / 'gan_saturation.png'}")


if __name__ == "__main__":
    main()
