"""Rerun built-in experiments with `pinngen run` and print their headline figures (the no-regression check).

Each experiment runs in its own process (`pinngen run NAME --out bench/out/defaults/NAME --no-progress`),
one after another; the script records the run's summary metrics, its training seconds (the loop's own
clock), the wall time of the whole command, the user CPU seconds and the load average before and after, in
`bench/out/defaults/results.json` (appended), and prints one Markdown row per run.

    python bench/rerun_defaults.py [NAME ...] [--seed S]     # default: every built-in experiment
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out" / "defaults"
KEYS = ("rel_l2", "max_abs_error", "rel_error_l1", "rel_error_l2", "ghia_max_dev_u", "ghia_max_dev_v",
        "test_rmse", "test_r2", "test_accuracy", "test_mse", "best_variant", "best_test_mse", "test_nll_is_bpd",
        "test_neg_elbo_bpd", "baseline_histogram_bpd", "dataset", "data")


def names() -> list[str]:
    out = subprocess.run([sys.executable, "-m", "pinngen.cli", "list"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


def rerun(name: str, seed: int | None) -> dict:
    out = OUT / (name if seed is None else f"{name}-seed{seed}")
    cmd = [sys.executable, "-m", "pinngen.cli", "run", name, "--out", str(out), "--no-progress"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    load0 = os.getloadavg()[0]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - cpu0
    rec = {"experiment": name, "seed": seed, "exit": proc.returncode, "wall_s": round(wall, 1),
           "user_cpu_s": round(cpu, 1), "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2),
           "date": time.strftime("%Y-%m-%d %H:%M")}
    if proc.returncode:
        rec["error"] = proc.stderr.strip().splitlines()[-1:] if proc.stderr.strip() else []
        return rec
    summary = json.loads((out / "metrics.json").read_text())["summary"]
    rec["train_s"] = summary.get("train_seconds")
    rec["summary"] = {k: summary[k] for k in KEYS if k in summary}
    for k, v in summary.items():  # per-output errors (kovasznay u, v; cavity) and identified unknowns
        if k.startswith(("rel_l2_", "rel_error_", "ghia")):
            rec["summary"][k] = v
    return rec


def row(rec: dict) -> str:
    if rec["exit"]:
        return f"| {rec['experiment']} | FAILED ({rec.get('error')}) | | | |"
    figures = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in rec["summary"].items())
    return (f"| {rec['experiment']} | {figures} | {rec['train_s']:.0f} | {rec['wall_s']:.0f} | "
            f"{rec['load_before']:.1f} / {rec['load_after']:.1f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*")
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print("| experiment | figures | train s | wall s | load before / after |\n| --- | --- | --- | --- | --- |")
    for name in a.names or names():
        rec = rerun(name, a.seed)
        with open(OUT / "results.json", "a") as fh:
            fh.write(json.dumps(rec) + "\n")
        print(row(rec), flush=True)


if __name__ == "__main__":
    main()
