"""Claim: with their defaults, ``gunpoint-lstm`` and ``gunpoint-transformer`` score above 0.95 test accuracy on
GunPoint (1-NN DTW: 0.907) and ``italypower-transformer`` above 0.96 on ItalyPowerDemand (1-NN Euclidean: 0.955),
in a few CPU minutes each; the medians over seeds are the numbers quoted.

    python bench/seq_classify.py [--seeds 1 2 3] [--experiments gunpoint-lstm ...] [--threads 1]

Each run goes through ``pinngen.run`` (train, then evaluate with the 1-NN baselines computed in the same run)
into ``bench/out/seq_classify/<experiment>-s<seed>/``. Writes ``bench/out/seq_classify.md`` (the table, also
printed) and ``.json`` (every run: accuracy, baselines, training and process CPU seconds, load average).
CPU seconds are this process's (``time.process_time``), so other jobs slow the wall clock but not them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

EXPERIMENTS = ("gunpoint-lstm", "gunpoint-transformer", "italypower-transformer")
TARGETS = {"gunpoint-lstm": 0.95, "gunpoint-transformer": 0.95, "italypower-transformer": 0.96}


def _pin_threads(n: int) -> None:
    os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={'true' if n > 1 else 'false'} " \
                              f"intra_op_parallelism_threads={n}"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def _row(name: str, runs: list[dict]) -> str:
    acc = [r["accuracy"] for r in runs]
    med = statistics.median(acc)
    euclid, dtw = (runs[0].get(f"accuracy_1nn_{k}", float("nan")) for k in ("euclidean", "dtw"))
    verdict = "yes" if med > TARGETS[name] else "NO"
    return (f"| {name} | {' / '.join(f'{a:.4f}' for a in acc)} | {med:.4f} | {euclid:.4f} | {dtw:.4f} "
            f"| > {TARGETS[name]} {verdict} "
            f"| {statistics.median(r['cpu_s'] for r in runs):.0f} |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--experiments", nargs="+", default=list(EXPERIMENTS), choices=EXPERIMENTS)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="bench/out")
    a = p.parse_args(argv)
    _pin_threads(a.threads)

    import pinngen

    out = Path(a.out)
    results: dict[str, list[dict]] = {}
    for name in a.experiments:
        for seed in a.seeds:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            run = pinngen.run(name, seed=seed, out=out / "seq_classify" / f"{name}-s{seed}", progress=False)
            s = run.metrics["summary"]
            r = {"seed": seed, "accuracy": s["accuracy"], "cpu_s": time.process_time() - cpu0,
                 "wall_s": time.perf_counter() - wall0, "train_s": s["train_seconds"], "load": os.getloadavg()[0],
                 **{k: s[k] for k in ("accuracy_1nn_euclidean", "accuracy_1nn_dtw", "train_accuracy") if k in s}}
            results.setdefault(name, []).append(r)
            print(f"{name} seed {seed}: accuracy {r['accuracy']:.4f} ({r['cpu_s']:.0f} CPU s, {r['wall_s']:.0f} s "
                  f"wall, load {r['load']:.1f})", flush=True)
    lines = ["| experiment | test accuracy per seed (" + " / ".join(map(str, a.seeds)) + ") | median | 1-NN Euclidean "
             "| 1-NN DTW | target met | CPU s per run (median) |", "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [_row(name, runs) for name, runs in results.items()]
    table = "\n".join(lines)
    print(table)
    (out / "seq_classify.md").write_text(table + "\n")
    (out / "seq_classify.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
