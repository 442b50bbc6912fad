"""A library PINN problem over several seeds: median, best and worst, and whether the report noticed.

Each seed is its own `pinngen run NAME --seed S` (the seed drives initialisation, collocation draws and, for
inverse problems, the observations and their noise), one after another; the script reads each run's
metrics.json and findings.json and prints one Markdown row per seed plus median / best / worst, and writes
`bench/out/seeds/NAME/results.json`.

    python bench/pinn_seeds.py burgers --seeds 1 2 3 4 5 [--set KEY=VALUE ...] [--cpu 0]

Tune defaults on seed 0 and report on seeds that were not used for tuning (1, 2, 3, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "out" / "seeds"
KEYS = ("rel_l2", "max_abs_error", "residual_rms", "residual_gap", "rel_error_l1", "rel_error_l2",
        "time_to_rel_l2_1e-3", "time_to_rel_l2_1e-4", "time_to_rel_l2_1e-5", "train_seconds")


def run_seed(name: str, seed: int, overrides: list[str], cpu: int | None, tag: str) -> dict:
    out = OUT / tag / f"s{seed}"
    cmd = [sys.executable, "-m", "pinngen.cli", "run", name, "--seed", str(seed), "--out", str(out), "--no-progress"]
    for o in overrides:
        cmd += ["--set", o]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    pre = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    t0, load0 = time.time(), os.getloadavg()[0]
    done = subprocess.run(cmd, env=env, preexec_fn=pre, capture_output=True, text=True)
    row = {"seed": seed, "wall_s": round(time.time() - t0, 1), "load": [round(load0, 2), round(os.getloadavg()[0], 2)],
           "rc": done.returncode}
    if done.returncode != 0:
        row["error"] = done.stderr.strip().splitlines()[-1:] or ["?"]
        return row
    summary = json.loads((out / "metrics.json").read_text())["summary"]
    row.update({k: summary[k] for k in KEYS if k in summary})
    row["summary"] = {k: v for k, v in summary.items() if isinstance(v, (int, float, str))}  # e.g. cavity's Ghia
    findings = json.loads((out / "findings.json").read_text())
    row["warnings"] = sorted({f["code"] for f in findings if f["severity"] in ("warning", "error")})
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", help="built-in experiment or YAML")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--cpu", type=int, default=None, help="pin every run to this core")
    p.add_argument("--tag", default=None, help="output folder name (default: the experiment's name)")
    a = p.parse_args()
    tag = a.tag or Path(a.name).stem
    rows = []
    for s in a.seeds:
        rows.append(run_seed(a.name, s, a.overrides, a.cpu, tag))
        r = rows[-1]
        cells = [f"{r[k]:.3g}" if isinstance(r.get(k), float) else str(r.get(k, "-")) for k in KEYS]
        print(f"| {s} | " + " | ".join(cells) + f" | {r.get('warnings', r.get('error'))} |", flush=True)
    ok = [r for r in rows if r["rc"] == 0 and "rel_l2" in r]
    if ok:
        e = np.array([r["rel_l2"] for r in ok])
        print(f"\n{a.name}: rel L2 median {np.median(e):.3g}, best {e.min():.3g}, worst {e.max():.3g} "
              f"over seeds {[r['seed'] for r in ok]}")
    (OUT / tag).mkdir(parents=True, exist_ok=True)
    record = {"name": a.name, "overrides": a.overrides, "date": time.strftime("%Y-%m-%d %H:%M"), "rows": rows}
    with open(OUT / tag / "results.json", "a") as fh:
        fh.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
