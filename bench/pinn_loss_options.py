"""The loss options of the high-accuracy PINN papers, each on and off: sqrt or log of the loss in the quasi-Newton
phase, and residual-adaptive resampling (RAD) that also redraws during the quasi-Newton phase.

Four variants of one built-in experiment (default `burgers-raissi`: Adam, then L-BFGS, no transform, no RAD),
each its own `pinngen run` per seed with the same step budget (``--adam-steps``, ``--qn-steps``; steps, not
seconds, so a contended machine changes the times but not the result):

- ``base``: the experiment as it is;
- ``sqrt``: ``train.phases.1.loss_transform=sqrt`` (Urbán, Stefanou & Pons 2025; Kiyani et al. 2025);
- ``log``: ``train.phases.1.loss_transform=log``;
- ``rad``: ``collocation.adaptive`` RAD (``--rad-every`` steps, ``--rad-candidates`` candidates, k = c = 1) with
  ``collocation.redraw_in_quasi_newton=true`` (the curvature memory is carried across each redraw).

Prints final relative L2, training and wall time per run, and a median / best / worst row per variant; writes
`bench/out/pinn_loss_options/<tag>/results.json`.

    python bench/pinn_loss_options.py [NAME] --seeds 1 2 3 [--variants base sqrt log rad] [--adam-steps 6000]
                                      [--qn-steps 8000] [--budget SECONDS] [--cpu 0] [--set KEY=VALUE ...]
    python bench/pinn_loss_options.py --collect TAG_PREFIX --seeds 1 2 3   # table of runs split over processes
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

OUT = Path(__file__).parent / "out" / "pinn_loss_options"
VARIANTS = ("base", "sqrt", "log", "rad")


def variant_sets(variant: str, a) -> list[str]:
    if variant == "base":
        return []
    if variant in ("sqrt", "log"):
        return [f"train.phases.1.loss_transform={variant}"]
    if variant == "rad":
        return ["collocation.adaptive.method=rad", f"collocation.adaptive.every={a.rad_every}",
                f"collocation.adaptive.n_candidates={a.rad_candidates}", "collocation.redraw_in_quasi_newton=true"]
    raise SystemExit(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")


def run_one(variant: str, seed: int, a, out: Path) -> dict:
    sets = [f"train.phases.0.steps={a.adam_steps}", f"train.phases.1.steps={a.qn_steps}", *variant_sets(variant, a),
            *a.overrides]
    if a.budget is not None:
        sets.append(f"train.max_train_seconds={a.budget}")
    cmd = [sys.executable, "-m", "pinngen.cli", "run", a.name, "--seed", str(seed), "--out", str(out),
           "--no-progress"]
    for s in sets:
        cmd += ["--set", s]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    pre = (lambda: os.sched_setaffinity(0, {a.cpu})) if a.cpu is not None else None
    t0, load0 = time.time(), os.getloadavg()[0]
    done = subprocess.run(cmd, env=env, preexec_fn=pre, capture_output=True, text=True)
    row = {"variant": variant, "seed": seed, "wall_s": round(time.time() - t0, 1), "rc": done.returncode,
           "load": [round(load0, 2), round(os.getloadavg()[0], 2)], "sets": sets}
    if done.returncode != 0:
        row["error"] = (done.stderr.strip().splitlines() or ["?"])[-1]
        return row
    metrics = json.loads((out / "metrics.json").read_text())
    summary = metrics["summary"]
    row["rel_l2"] = summary.get("rel_l2")
    row["train_seconds"] = summary.get("train_seconds")
    row["phases"] = [{k: ph.get(k) for k in ("optimizer", "steps_run", "stop_reason", "ms_per_step",
                                            "hessian_resets")} for ph in metrics.get("phases", [])]
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", nargs="?", default="burgers-raissi",
                   help="built-in experiment or YAML (Adam, then quasi-Newton)")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    p.add_argument("--adam-steps", type=int, default=6000)
    p.add_argument("--qn-steps", type=int, default=8000, help="upper bound of the quasi-Newton phase")
    p.add_argument("--budget", type=float, default=None, help="optional training seconds per run (max_train_seconds)")
    p.add_argument("--rad-every", type=int, default=500)
    p.add_argument("--rad-candidates", type=int, default=40000)
    p.add_argument("--cpu", type=int, default=None, help="pin every run to this core")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--tag", default=None)
    p.add_argument("--collect", default=None, metavar="TAG_PREFIX",
                   help="run nothing: tabulate finished runs of the tags starting with this prefix")
    a = p.parse_args()
    tag = a.tag or f"{Path(a.name).stem}-a{a.adam_steps}-q{a.qn_steps}"
    rows = collect(a) if a.collect else []
    for seed in [] if a.collect else a.seeds:
        for v in a.variants:
            row = run_one(v, seed, a, OUT / tag / f"{v}-s{seed}")
            rows.append(row)
            print(f"{v} seed {seed}: rc {row['rc']}, rel L2 {row.get('rel_l2')}, train {row.get('train_seconds')} s, "
                  f"wall {row['wall_s']} s, load {row['load']}" + (f", error: {row['error']}" if "error" in row
                                                                   else ""), flush=True)
    table(rows, a)
    if not a.collect:
        (OUT / tag).mkdir(parents=True, exist_ok=True)
        (OUT / tag / "results.json").write_text(json.dumps({"args": vars(a), "date": time.strftime("%Y-%m-%d %H:%M"),
                                                            "runs": rows}, indent=1))
        print(f"\nwrote {OUT / tag / 'results.json'}")


def collect(a) -> list[dict]:
    """Rows from finished runs under bench/out/pinn_loss_options/<tag prefix>*/<variant>-s<seed>/ (runs split
    over several processes, e.g. one per seed or variant, with tags sharing the prefix ``--collect``)."""
    rows = []
    for v in a.variants:
        for seed in a.seeds:
            found = sorted(OUT.glob(f"{a.collect}*/{v}-s{seed}/metrics.json"))
            if not found:
                continue
            m = json.loads(found[-1].read_text())
            rows.append({"variant": v, "seed": seed, "rel_l2": m["summary"].get("rel_l2"),
                         "train_seconds": m["summary"].get("train_seconds"), "run": str(found[-1].parent)})
    return rows


def table(rows: list[dict], a) -> None:
    print("\n| variant | " + " | ".join(f"seed {s}" for s in a.seeds) + " | median | best | worst | train s (median) |")
    print("|---" * (len(a.seeds) + 5) + "|")
    for v in a.variants:
        mine = {r["seed"]: r for r in rows if r["variant"] == v}
        errs = [mine.get(s, {}).get("rel_l2") for s in a.seeds]
        ok = [e for e in errs if e is not None]
        cells = [f"{e:.2e}" if e is not None else "-" for e in errs]
        secs = [mine[s]["train_seconds"] for s in a.seeds if mine.get(s, {}).get("train_seconds") is not None]
        stats = [f"{np.median(ok):.2e}", f"{min(ok):.2e}", f"{max(ok):.2e}"] if ok else ["-"] * 3
        tail = f"{np.median(secs):.0f}" if secs else "-"
        print(f"| {v} | " + " | ".join([*cells, *stats, tail]) + " |")


if __name__ == "__main__":
    main()
