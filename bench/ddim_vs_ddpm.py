"""DDIM with few steps against 1,000-step ancestral DDPM, on one trained run: Fréchet distance and time per sample.

Loads a run folder (`pinngen run ddpm-fashion`), draws N samples with each sampler from the EMA weights (seeded),
times each (after a compiling warm-up call, except for DDPM whose run dwarfs its compilation), and scores them
with the project's metric (`pinngen.generative.sample_metrics.evaluate_samples`). Prints a Markdown table with
the ratio of each Fréchet distance to DDPM's and the speed-up.

    python bench/ddim_vs_ddpm.py RUN_DIR [--n 500] [--samplers ddpm ddim-50 ddim-20] [--seeds 0 1 2]

A DDIM name may carry options after its step count, joined by ``-``: ``eta1`` (any eta), ``trailing`` /
``linspace`` (timestep spacing), ``keepeps`` (keep the model's eps_hat after clipping x0_hat, HF diffusers'
default, instead of recomputing it): e.g. ``ddim-50-eta1-keepeps``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import jax
import numpy as np

import pinngen
from pinngen.core import checkpoint as ckpt
from pinngen.generative import diffusion_experiment as DE
from pinngen.generative import sample_metrics as SM
from pinngen.generative.diffusion_data import from_model_space


def parse(name: str) -> dict:
    if name == "ddpm":
        return {"sampler": "ddpm"}
    kind, steps, *extra = name.split("-")
    opts = {"sampler": kind, "steps": int(steps)}
    for e in extra:
        if e.startswith("eta"):
            opts["eta"] = float(e[3:])
        elif e in ("leading", "trailing", "linspace"):
            opts["spacing"] = e
        elif e == "keepeps":
            opts["recompute_eps"] = False
        else:
            raise SystemExit(f"sampler option {e!r} in {name!r}: use etaX, leading/trailing/linspace or keepeps")
    return opts


def draw(run, n: int, seed: int, batch: int, opts: dict):
    """``n`` samples in [0, 1] from the run's EMA weights through the kind's own sampling code."""
    spec = ckpt.load_spec(run.path / "model")
    x = DE.draw(run.model, spec, n, jax.random.PRNGKey(seed), batch_size=batch, **opts)
    return from_model_space(x, spec)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir")
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--batch", type=int, default=250)
    p.add_argument("--samplers", nargs="+", default=["ddpm", "ddim-50", "ddim-20"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    a = p.parse_args()
    run = pinngen.load(a.run_dir)
    dataset = run.config.data.dataset
    rows = {}
    for seed in a.seeds:
        for name in a.samplers:
            opts = parse(name)
            if opts["sampler"] != "ddpm":  # compile outside the clock (for DDPM compiling is < 1 % of the run)
                draw(run, a.batch, 10_000 + seed, a.batch, opts)
            t0 = time.perf_counter()
            x = draw(run, a.n, seed, a.batch, opts)
            sec = (time.perf_counter() - t0) / a.n
            m = SM.evaluate_samples(x, dataset=dataset, seed=seed)["samples"]
            rows.setdefault(name, []).append({"seed": seed, "fd": m["frechet_distance"], "s_per_sample": sec,
                                              "load": os.getloadavg()[0]})
            print(json.dumps({"sampler": name, **rows[name][-1]}), flush=True)
    out = Path(a.run_dir) / "ddim_vs_ddpm.json"
    out.write_text(json.dumps(rows, indent=1))
    base_fd = np.median([r["fd"] for r in rows["ddpm"]]) if "ddpm" in rows else None
    base_t = np.median([r["s_per_sample"] for r in rows["ddpm"]]) if "ddpm" in rows else None
    print(f"\nN = {a.n} per sampler and seed, seeds {a.seeds}, run {a.run_dir}, {time.strftime('%Y-%m-%d %H:%M')}")
    print("| sampler | FD per seed | median FD | FD / DDPM's | s per sample (median) | speed-up vs DDPM |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, rs in rows.items():
        fd = np.median([r["fd"] for r in rs])
        t = np.median([r["s_per_sample"] for r in rs])
        ratio = f"{fd / base_fd:.3f}" if base_fd else ""
        speed = f"{base_t / t:.1f}x" if base_t else ""
        per_seed = ", ".join(f"{r['fd']:.2f}" for r in rs)
        print(f"| {name} | {per_seed} | {fd:.2f} | {ratio} | {t:.4f} | {speed} |")
    jax.clear_caches()


if __name__ == "__main__":
    main()
