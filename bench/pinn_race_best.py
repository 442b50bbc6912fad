"""Time to relative L2 1e-3 and 1e-4 on Burgers, pinngen against DeepXDE, each side with its best recipe (issue 14).

pinngen: the built-in default, ``pinngen run burgers --seed S`` (float64, exact conditions, Adam then self-scaled
Broyden on sqrt of the loss, RAD), its training clock (compile included) read from the run's metrics
(``time_to_rel_l2_1e-3`` / ``1e-4``: the first evaluation, every ``train.eval_every`` = 250 steps, at or below the
level, on the reference subsample). ``--our-budget`` caps its training seconds (the times to 1e-3 and 1e-4 do not
depend on the cap: the schedule is the same, only cut earlier).

DeepXDE (PyTorch backend, its own venv ``bench/.venv-deepxde``, see bench/README.md): its documented Burgers example
(2-[20]x3-1 tanh, Glorot normal, 2540 domain / 80 boundary / 160 initial points, Adam lr 1e-3 for 15,000
iterations, then L-BFGS; ``deepxde-example``) or its documented refinement, the Burgers_RAR example
(``deepxde-rar``: 2500 domain / 100 boundary points, Adam 10,000 then L-BFGS, then rounds that add the point of
largest residual among 100,000 random ones and retrain with Adam, early-stopped, and L-BFGS, while the mean
residual exceeds 0.005; ``deepxde-rar-long``: the same rounds going on until the budget), run through
``bench/deepxde_side.py accuracy`` with the L-BFGS allowed up to ``--lbfgs-max`` iterations, relative L2 on the
full 256 x 100 grid every ``--every`` iterations (evaluation time excluded), until 1e-4, the recipe's own end (its
L-BFGS stops when an iteration makes no progress), or ``--budget`` seconds (30 minutes by default) of training.

Each (side, seed) is its own process confined to one core (the first core this script may use: start it under
``taskset -c N``); for each seed the sides alternate, the order flipping from seed to seed.

    taskset -c 1 .venv/bin/python bench/pinn_race_best.py --seeds 1 2 3 [--sides pinngen deepxde-example deepxde-rar]
    .venv/bin/python bench/pinn_race_best.py --collect        # the table from every result written so far

Writes one JSON per (side, seed) under ``bench/out/race_best/`` and prints the markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from pinn_seeds import run_seed
from pinn_vs_deepxde import HERE, OUT, git_state, load, run_side, write_grid

RACE = OUT / "race_best"
LEVELS = ("0.001", "0.0001")
DEEPXDE = ("deepxde-example", "deepxde-rar", "deepxde-rar-long")


def run_pinngen(seed: int, budget: float, log) -> dict:
    """``pinngen run burgers --seed S`` on this script's first core, through ``pinn_seeds.run_seed``."""
    row = run_seed("burgers", seed, [f"train.max_train_seconds={budget:g}"], min(os.sched_getaffinity(0)),
                   "race_best")
    res = {"side": "pinngen", "seed": seed, "load_before": row["load"][0], "load_after": row["load"][1],
           "process_wall_s": row["wall_s"], "budget_s": budget}
    if row["rc"]:
        res["error"] = row.get("error")
    else:
        res["reached"] = {lvl: {"wall_s": row[key]} for lvl, key in
                          (("0.001", "time_to_rel_l2_1e-3"), ("0.0001", "time_to_rel_l2_1e-4")) if key in row}
        res.update(final_rel_l2=row.get("rel_l2"), total_wall_s=row.get("train_seconds"))
    print(f"[{time.strftime('%H:%M:%S')}] pinngen s{seed}: {res.get('reached')} final {res.get('final_rel_l2')} "
          f"{res.get('error', '')}", file=log, flush=True)
    return res


def run_deepxde(side: str, seed: int, args, grid: Path, log) -> dict:
    recipe = side.split("-", 1)[1]
    rar = recipe.startswith("rar")
    adam = args.dde_adam if args.dde_adam is not None else (10000 if rar else 15000)
    extra = ["--grid", str(grid), "--seed", str(seed), "--adam", str(adam), "--every", str(args.every),
             "--budget", str(args.budget), "--lbfgs-max", str(args.lbfgs_max), "--stop-at-goal", "--goal", "0.0001",
             "--recipe", "rar" if rar else "example"]
    if recipe == "rar-long":  # the RAR rounds go on until the budget, past the example's own stopping residual
        extra += ["--rar-threshold", "0"]
    res = run_side("deepxde-pytorch", "accuracy", 1, extra, args.budget * 1.5 + 600, log)
    res["seed"], res["side"] = seed, side
    if args.drop_trace:
        res.pop("trace", None)
    return res


def _t(res: dict, lvl: str) -> float:
    hit = (res.get("reached") or {}).get(lvl)
    return hit["wall_s"] if hit else float("inf")


def table(results: list[dict]) -> str:
    by = {}
    for r in results:
        by.setdefault(r["seed"], {})[r["side"]] = r
    lines = ["| seed | DeepXDE recipe | pinngen to 1e-3 (s) | DeepXDE to 1e-3 (s) | ratio | pinngen to 1e-4 (s) | "
             "DeepXDE to 1e-4 (s) | ratio | pinngen final rel L2 (train s) | "
             "DeepXDE final rel L2 (train s, iterations) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    ratios = {lvl: [] for lvl in LEVELS}

    def cell(v, res):
        if v < float("inf"):
            return f"{v:.1f}"
        ended = res.get("total_wall_s") or 0.0
        budget = res.get("budget_s") or 0.0
        # a recipe that stopped by itself (DeepXDE's L-BFGS ends when an iteration makes no progress) before the budget
        return f"not reached (run ended at {ended:.0f})" if ended < 0.95 * budget else f"not in {budget:.0f}"

    pairs = [(seed, by[seed].get("pinngen"), side, by[seed][side]) for seed in sorted(by)
             for side in DEEPXDE if side in by[seed]]
    for seed, p, side, d in pairs:
        row = [str(seed), side.split("-", 1)[1]]
        for lvl in LEVELS:
            tp = _t(p, lvl) if p else None
            td = _t(d, lvl) if d else None
            row.append(cell(tp, p) if p else "-")
            row.append(cell(td, d) if d else "-")
            if tp is not None and td is not None and tp < float("inf"):
                ratio = td / tp
                ratios[lvl].append(ratio)
                row.append(f"{ratio:.1f}" if ratio < float("inf") else "DeepXDE did not reach it")
            else:
                row.append("-")
        row.append(f"{p['final_rel_l2']:.2e} ({p['total_wall_s']:.0f})" if p and "final_rel_l2" in p else "-")
        row.append(f"{d['final_rel_l2']:.2e} ({d['total_wall_s']:.0f}, {d['steps']})"
                   if d and d.get("final_rel_l2") is not None else "-")
        lines.append("| " + " | ".join(row) + " |")
    for lvl in LEVELS:  # pooled over the DeepXDE recipes present
        if ratios[lvl]:
            finite = [r for r in ratios[lvl] if r < float("inf")]
            lines.append(f"\nto {float(lvl):.0e}: median DeepXDE / pinngen time ratio "
                         f"{statistics.median(ratios[lvl]):.1f} over {len(ratios[lvl])} (seed, DeepXDE recipe) pairs "
                         f"({len(ratios[lvl]) - len(finite)} where DeepXDE did not get there)")
    return "\n".join(lines)


def collect() -> list[dict]:
    out = [json.loads(p.read_text()) for p in sorted(RACE.glob("*.json"))]
    for r in out:  # the first results, written before the RAR recipe was added, name the side by its backend
        r["side"] = "deepxde-example" if r["side"] == "deepxde-pytorch" else r["side"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--sides", nargs="+", default=["pinngen", "deepxde-example"], choices=["pinngen", *DEEPXDE],
                    help="deepxde-example: its Burgers example; deepxde-rar: its Burgers_RAR example; "
                    "deepxde-rar-long: its RAR rounds until the budget")
    ap.add_argument("--budget", type=float, default=1800.0, help="DeepXDE: training wall seconds per run")
    ap.add_argument("--our-budget", type=float, default=1200.0, help="pinngen: train.max_train_seconds")
    ap.add_argument("--dde-adam", type=int, default=None,
                    help="DeepXDE: first Adam iterations (default as its examples: 15000, RAR 10000)")
    ap.add_argument("--every", type=int, default=100, help="DeepXDE: iterations between evaluations")
    ap.add_argument("--lbfgs-max", type=int, default=100000)
    ap.add_argument("--drop-trace", action="store_true", help="keep only the crossings in the JSON")
    ap.add_argument("--collect", action="store_true", help="print the table of every result written so far")
    args = ap.parse_args(argv)
    RACE.mkdir(parents=True, exist_ok=True)
    if args.collect:
        print(table(collect()))
        return 0
    if any(s in DEEPXDE for s in args.sides) and not (HERE / ".venv-deepxde/bin/python").exists():
        raise SystemExit("bench/.venv-deepxde is missing: create it as bench/README.md says")
    grid = RACE / "burgers_grid.npz"
    write_grid(grid)
    log = sys.stderr
    print(f"tree {git_state()}, load {load()}", file=log, flush=True)
    for i, seed in enumerate(args.seeds):
        sides = args.sides if i % 2 == 0 else args.sides[::-1]
        for side in sides:
            res = run_pinngen(seed, args.our_budget, log) if side == "pinngen" else run_deepxde(side, seed, args, grid,
                                                                                               log)
            res["date"] = time.strftime("%Y-%m-%d %H:%M:%S")
            (RACE / f"{side}-s{seed}.json").write_text(json.dumps(res))
    print(table(collect()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
