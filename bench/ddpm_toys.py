"""DDPM on the 2-D toys: do the samples pass a two-sample test against an independent data draw, and how fast?

For each toy (two moons, eight Gaussians, checkerboard) and seed, runs
`pinngen run ddpm-toy --set data.dataset=TOY --seed S` in its own process (the seed drives the training points,
the initialisation, the minibatches, the noise and the test draw), confined to `--cores`, and reads the energy
and MMD permutation p-values of 2,000 DDIM-50 samples against held-out points of an independent draw, the
training seconds (the loop's clock) and the whole command's wall time. Prints a Markdown table.

    python bench/ddpm_toys.py [--seeds 1 2 3] [--toys two_moons ...] [--cores 0 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out" / "ddpm_toys"
TOYS = ("two_moons", "eight_gaussians", "checkerboard")


def run(toy: str, seed: int, cores: list[int]) -> dict:
    out = OUT / f"{toy}-seed{seed}"
    cmd = [sys.executable, "-m", "pinngen.cli", "run", "ddpm-toy", "--out", str(out), "--no-progress",
           "--seed", str(seed), "--set", f"data.dataset={toy}"]
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=lambda: os.sched_setaffinity(0, cores))
    wall = time.perf_counter() - t0
    if proc.returncode:
        return {"toy": toy, "seed": seed, "error": proc.stderr.strip().splitlines()[-1:]}
    s = json.loads((out / "metrics.json").read_text())["summary"]
    return {"toy": toy, "seed": seed, "energy_p": s["energy_p_value"], "mmd_p": s["mmd_p_value"],
            "train_s": s.get("train_seconds"), "wall_s": wall, "load": (load0, os.getloadavg()[0])}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--toys", nargs="+", default=list(TOYS))
    p.add_argument("--cores", type=int, nargs="+", default=sorted(os.sched_getaffinity(0))[:2])
    a = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print("| toy | seed | energy p | MMD p | train s | whole run s | load before / after |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for toy in a.toys:
        for seed in a.seeds:
            r = run(toy, seed, a.cores)
            with open(OUT / "results.jsonl", "a") as fh:
                fh.write(json.dumps(r) + "\n")
            if "error" in r:
                print(f"| {toy} | {seed} | FAILED {r['error']} | | | | |", flush=True)
                continue
            print(f"| {toy} | {seed} | {r['energy_p']:.3f} | {r['mmd_p']:.3f} | {r['train_s']:.1f} | "
                  f"{r['wall_s']:.1f} | {r['load'][0]:.1f} / {r['load'][1]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
