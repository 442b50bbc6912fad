"""Claim (issue 12): the built-in ``charlm-hamlet`` (Hamlet, first 90 % train, last 10 % validation) reaches
below 1.60 nats per character within 20 minutes of training on a 2-core CPU (a Witten-Bell 5-gram: 1.674; a
plain PyTorch LSTM of 128 units: 1.645).

    .venv/bin/python bench/seq_charlm.py                           # seeds 1 2 3 (about 3 x 21 minutes)
    .venv/bin/python bench/seq_charlm.py --seeds 0
    .venv/bin/python bench/seq_charlm.py --set train.max_train_seconds=60 --seeds 0      # smoke

Each seed is one ``pinngen run`` into ``--out/charlm-hamlet-s<seed>``; the 5-gram is fitted in the same run.
Prints one row per seed (windowed score, the carried-state score, the 5-gram, steps reached, train seconds)
and the medians, and writes ``--out/results.json`` with the load averages: the 20-minute budget is wall clock,
so a busy machine trains fewer steps.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

KEYS = ("nats_per_char", "bits_per_char", "nats_per_char_carried", "ngram_nats_per_char", "steps", "train_seconds")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--experiment", default="charlm-hamlet")
    p.add_argument("--set", action="append", default=[], help="config override a.b=c (repeatable)")
    p.add_argument("--out", default="bench/out/seq_charlm")
    a = p.parse_args(argv)

    import pinngen

    out, results = Path(a.out), []
    print("seed  nats/char  bits/char  carried  5-gram   steps  train s  wall s")
    for seed in a.seeds:
        t0 = time.perf_counter()
        run = pinngen.run(a.experiment, out=out / f"{a.experiment}-s{seed}", seed=seed, overrides=a.set,
                          progress=False)
        s = {k: run.metrics["summary"].get(k) for k in KEYS}
        s.update(seed=seed, wall_seconds=round(time.perf_counter() - t0, 1),
                 load=[round(v, 2) for v in os.getloadavg()])
        results.append(s)
        carried = s["nats_per_char_carried"]
        print(f"{seed:4d}  {s['nats_per_char']:9.4f}  {s['bits_per_char']:9.4f}  "
              f"{carried if carried is None else f'{carried:7.4f}'}  {s['ngram_nats_per_char']:6.4f}  "
              f"{s['steps']:6d}  {s['train_seconds']:7.0f}  {s['wall_seconds']:6.0f}", flush=True)
    med = statistics.median(r["nats_per_char"] for r in results)
    ngram = statistics.median(r["ngram_nats_per_char"] for r in results)
    verdict = "below" if med < 1.60 else "NOT below"
    print(f"median over seeds {a.seeds}: {med:.4f} nats/char ({med / 0.6931471805599453:.4f} bits) vs the 5-gram "
          f"{ngram:.4f}: {verdict} the 1.60 target")
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"runs": results, "median_nats_per_char": med,
                                                  "ngram_nats_per_char": ngram, "overrides": a.set}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
