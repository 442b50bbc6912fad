"""Quasi-Newton optimizers on a PINN: Adam, then L-BFGS / dense BFGS / SSBFGS / SSBroyden, for a fixed budget.

Each optimizer is its own `pinngen run burgers` (float64, the library default: Adam then a quasi-Newton
phase), with the same seed, the same Adam phase and the same training-time budget (``train.max_train_seconds``,
Adam included); only the second phase's optimizer differs, and its step cap is lifted so that the budget (or
its own tolerances) ends it. The script prints relative L2 against training time from each run's history
(``metric/rel_l2`` every ``eval_every`` steps, ``time``), the phase records (stop reason, ms per step, the
dense inverse Hessian's size, resets) and writes `bench/out/pinn_optimizers/<tag>/results.json`.

    python bench/pinn_optimizers.py [--optimizers lbfgs ssbfgs ssbroyden] [--budget 1200] [--adam-steps 6000]
                                    [--seed 1] [--cpu 0] [--set KEY=VALUE ...]

A smoke run (a few minutes on this CPU): ``--adam-steps 300 --budget 45 --set train.eval_every=50``.
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

OUT = Path(__file__).parent / "out" / "pinn_optimizers"


def run_one(name: str, optimizer: str, a, out: Path) -> dict:
    sets = [f"train.phases.0.steps={a.adam_steps}", f"train.phases.1.optimizer={optimizer}",
            "train.phases.1.steps=1000000", f"train.max_train_seconds={a.budget}", *a.overrides]
    cmd = [sys.executable, "-m", "pinngen.cli", "run", name, "--seed", str(a.seed), "--out", str(out), "--no-progress"]
    for s in sets:
        cmd += ["--set", s]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    pre = (lambda: os.sched_setaffinity(0, {a.cpu})) if a.cpu is not None else None
    t0, load0 = time.time(), os.getloadavg()[0]
    done = subprocess.run(cmd, env=env, preexec_fn=pre, capture_output=True, text=True)
    row = {"optimizer": optimizer, "wall_s": round(time.time() - t0, 1), "rc": done.returncode,
           "load": [round(load0, 2), round(os.getloadavg()[0], 2)]}
    if done.returncode != 0:
        row["error"] = (done.stderr.strip().splitlines() or ["?"])[-1]
        return row
    from pinngen.core.history import History

    h = History.from_csv(out / "history.csv")
    t, e = h.column("time"), h.column("metric/rel_l2")
    keep = np.isfinite(e)
    row["curve"] = [[round(float(x), 2), float(y)] for x, y in zip(t[keep], e[keep], strict=True)]
    metrics = json.loads((out / "metrics.json").read_text())
    row["rel_l2"] = metrics["summary"].get("rel_l2")
    row["phases"] = metrics.get("phases", [])
    return row


def at(curve: list, seconds: float) -> float:
    """The last rel L2 recorded at or before ``seconds`` of training (NaN before the first)."""
    vals = [e for t, e in curve if t <= seconds]
    return vals[-1] if vals else float("nan")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", nargs="?", default="burgers", help="built-in experiment or YAML (two phases)")
    p.add_argument("--optimizers", nargs="+", default=["lbfgs", "ssbfgs", "ssbroyden"])
    p.add_argument("--budget", type=float, default=1200.0, help="training seconds per run, Adam included")
    p.add_argument("--adam-steps", type=int, default=6000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--cpu", type=int, default=None, help="pin every run to this core")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--tag", default=None)
    a = p.parse_args()
    tag = a.tag or f"{Path(a.name).stem}-s{a.seed}-b{int(a.budget)}"
    rows = []
    for opt in a.optimizers:
        row = run_one(a.name, opt, a, OUT / tag / opt)
        rows.append(row)
        print(f"{opt}: rc {row['rc']}, rel L2 {row.get('rel_l2')}, wall {row['wall_s']} s, load {row['load']}"
              + (f", error: {row['error']}" if "error" in row else ""), flush=True)
    ok = [r for r in rows if r["rc"] == 0]
    marks = np.linspace(a.budget / 10, a.budget, 10)
    print("\n| training s | " + " | ".join(r["optimizer"] for r in ok) + " |")
    print("|---" * (len(ok) + 1) + "|")
    for s in marks:
        print(f"| {s:.0f} | " + " | ".join(f"{at(r['curve'], s):.2e}" for r in ok) + " |")
    print("\n| optimizer | final rel L2 | phase | steps | stop | ms/step | inverse Hessian | resets | skipped |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in ok:
        for ph in r["phases"]:
            print(f"| {r['optimizer']} | {r['rel_l2']:.2e} | {ph['optimizer']} | {ph['steps_run']} | "
                  f"{ph['stop_reason']} | {ph.get('ms_per_step', '')} | {ph.get('inverse_hessian', '')} | "
                  f"{ph.get('hessian_resets', '')} | {ph.get('skipped_updates', '')} |")
    (OUT / tag).mkdir(parents=True, exist_ok=True)
    (OUT / tag / "results.json").write_text(json.dumps({"args": vars(a), "runs": rows}, indent=1))
    print(f"\nwrote {OUT / tag / 'results.json'}")


if __name__ == "__main__":
    main()
