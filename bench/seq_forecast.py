"""Claim (issue 12): on monthly sunspots with the last 132 months held out, the built-in forecasters
(``sunspots-lstm``, ``sunspots-transformer``) score MASE below 2.96 (the 11-year seasonal naive; aim 2.0) and a
one-step-ahead RMSE below AR(24)'s 11.28, with their default configs on a CPU.

    .venv/bin/python bench/seq_forecast.py                        # seeds 1 2 3, both experiments
    .venv/bin/python bench/seq_forecast.py --seeds 0 --experiments sunspots-lstm
    .venv/bin/python bench/seq_forecast.py --set train.phases.0.steps=50      # smoke

Each (experiment, seed) is one ``pinngen run`` into ``--out/<experiment>-s<seed>``; the baselines (seasonal
naive of period 132, AR(24) by least squares) come from the same runs. Prints one row per run and the medians,
and writes ``--out/results.json`` (every summary, with load averages: times are wall clock on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

KEYS = ("mase", "smape", "rmse", "one_step_rmse", "coverage_80", "coverage_95", "seasonal_naive_mase",
        "ar_mase", "ar_one_step_rmse", "train_seconds")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--experiments", nargs="+", default=["sunspots-lstm", "sunspots-transformer"])
    p.add_argument("--set", action="append", default=[], help="config override a.b=c (repeatable)")
    p.add_argument("--out", default="bench/out/seq_forecast")
    a = p.parse_args(argv)

    import pinngen

    out, results = Path(a.out), []
    print("experiment            seed   MASE  sMAPE%   RMSE  1-step RMSE  cov80  cov95 | s-naive MASE  AR MASE  "
          "AR 1-step | train s  wall s")
    for name in a.experiments:
        for seed in a.seeds:
            t0 = time.perf_counter()
            run = pinngen.run(name, out=out / f"{name}-s{seed}", seed=seed, overrides=a.set, progress=False)
            s = {k: run.metrics["summary"].get(k) for k in KEYS}
            s.update(experiment=name, seed=seed, wall_seconds=round(time.perf_counter() - t0, 1),
                     load=[round(v, 2) for v in os.getloadavg()])
            results.append(s)
            print(_row(name, str(seed), s), flush=True)
    for name in a.experiments:
        rows = [r for r in results if r["experiment"] == name]
        med = {k: statistics.median(r[k] for r in rows) for k in KEYS + ("wall_seconds",)
               if all(r.get(k) is not None for r in rows)}
        print(_row(name, "median", med))
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print("targets: MASE < 2.96 (aim 2.0); one-step RMSE < AR(24)'s 11.28")
    return 0


def _row(name: str, seed: str, s: dict) -> str:
    def f(k, fmt):
        return format(s[k], fmt) if s.get(k) is not None else "-".rjust(len(format(0.0, fmt)))

    return (f"{name:21s} {seed:>6s} {f('mase', '6.3f')} {f('smape', '7.2f')} {f('rmse', '6.2f')} "
            f"{f('one_step_rmse', '12.3f')} {f('coverage_80', '6.2f')} {f('coverage_95', '6.2f')} | "
            f"{f('seasonal_naive_mase', '12.4f')} {f('ar_mase', '8.4f')} {f('ar_one_step_rmse', '10.4f')} | "
            f"{f('train_seconds', '7.1f')} {f('wall_seconds', '7.1f')}")


if __name__ == "__main__":
    sys.exit(main())
