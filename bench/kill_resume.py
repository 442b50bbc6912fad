"""Kill-and-resume: SIGKILL training runs at many points, resume them, and compare with uninterrupted runs.

Uses :mod:`pinngen.core.killtest`: each run is a child process (``python -m pinngen.core.killtest``) that builds
a real experiment's set-up and trains with ``fit(..., checkpoint_dir=..., resume=True)``. For every kill point a
fresh run is killed there, then resumed (no more kills) until it finishes; its final weights, loss history and
steps (``final.npz``) must be bitwise identical to those of an uninterrupted reference run, and so must every
column of its final checkpoint's ``history.csv`` except the wall-clock ``time`` (losses, terms, lr, gradient
norms, ``val/loss``, ``metric/rel_l2``).

Two configurations (those of ``tests/core/test_resume.py``, made longer):

- ``pinn``: heat equation, hard constraints, 2-[12,12]-1, 96 collocation points redrawn every 20 steps,
  relative L2 every 10 steps, Adam 100 steps then L-BFGS 60 steps; chunk 10, a checkpoint every 10 steps
  (16 checkpoint writes per run);
- ``images``: dense autoencoder on the vendored 8x8 digits (300 train / 50 val), minibatches of 32, Adam 300
  steps; chunk 10, a checkpoint every 10 steps (30 writes).

Kill points, per configuration, drawn with a seeded generator: ``--injected`` kills inside a checkpoint write
(``arrays:n`` after the arrays are serialised, ``history:n`` after the history, ``rename:n`` before the unit's
rename into place, ``cleanup:n`` after it, before old units are removed; every stage at least once, ``n`` among
the run's writes), and ``--timed`` kills at random seconds of an uninterrupted run with a warm compilation cache:
half uniform over the whole run (start-up and compilation included), half uniform over its training part (from
its first checkpoint to its end), so that kills land mid-chunk and mid-write as well as before training.

Each kill point runs ``kill_and_resume``'s loop (``run_child`` killed, then ``run_child`` again until the run has
written ``final.npz``), with a look at the checkpoint folder between the kill and the first resume: *landed* is
the step of the latest complete checkpoint at the kill ("none" before the first; "+tmp" when a half-written unit
was left). Outcomes: *killed* (the first child died; a timed kill after the run ended does not count), *lost*
(not finished after 5 resumes), *corrupted* (a resume raised), *not identical* (finished, not bitwise
identical), *tidy* (one checkpoint unit left, no half-written ``.tmp-*``). All children share one JAX
compilation cache (the harness's ``cache=``) and run with one XLA/BLAS thread.

    .venv/bin/python bench/kill_resume.py [--injected 6] [--timed 6] [--seed 0] [--configs pinn images]

Writes ``bench/out/kill_resume/`` (runs, ``results.json``) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np

# One XLA/BLAS thread per child (inherited through the environment): light on the shared 2-core machine.
os.environ.update(XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
                  OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", JAX_PLATFORMS="cpu")

from pinngen.core import checkpoint as ckpt  # noqa: E402
from pinngen.core.history import History  # noqa: E402
from pinngen.core.killtest import final_arrays, run_child, same  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "kill_resume"
STAGES = ("arrays", "history", "rename", "cleanup")

PINN = dict(kind="pinn", problem="heat", options={"k": 0.1, "hard": True}, network={"hidden": [12, 12]},
            collocation={"n_domain": 96, "resample_every": 20}, evaluation={"metric_points": 128},
            train={"eval_every": 10, "chunk": 10, "checkpoint_every": 10, "progress": False,
                   "phases": [{"optimizer": "adam", "steps": 100, "lr": 2e-3}, {"optimizer": "lbfgs", "steps": 60}]})
IMAGES = dict(kind="autoencoder", data={"dataset": "digits", "fallback": None, "max_train": 300, "max_val": 50,
                                        "max_test": 50},
              model={"hidden": [32], "latent": 4},
              train={"eval_every": 10, "chunk": 10, "checkpoint_every": 10, "progress": False,
                     "phases": [{"optimizer": "adam", "steps": 300, "lr": 1e-3, "batch_size": 32}]})
CONFIGS = {"pinn": (PINN, "PINN heat, resampling every 20, Adam 100 + L-BFGS 60"),
           "images": (IMAGES, "dense AE on 8x8 digits, minibatch 32, Adam 300")}


def checkpoint_writes(config: dict) -> int:
    """Checkpoint writes of an uninterrupted run: every ``checkpoint_every`` global steps inside a phase,
    and one at the end of each phase."""
    every, writes, g = config["train"]["checkpoint_every"], 0, 0
    for phase in config["train"]["phases"]:
        writes += sum(1 for s in range(g + 1, g + phase["steps"]) if s % every == 0) + 1
        g += phase["steps"]
    return writes


def kill_points(config: dict, injected: int, timed: int, seconds: float, first_checkpoint: float, rng) -> list:
    n_writes = checkpoint_writes(config)
    stages = [STAGES[i % len(STAGES)] for i in rng.permutation(injected)]  # each stage at least once (if >= 4)
    writes = rng.choice(np.arange(1, n_writes + 1), size=injected, replace=injected > n_writes)
    points = [f"{stage}:{int(n)}" for stage, n in zip(stages, writes, strict=True)]
    anywhere = rng.uniform(0.3, seconds, timed - timed // 2)
    training = rng.uniform(first_checkpoint, seconds, timed // 2)
    return points + [round(float(t), 2) for t in np.concatenate([anywhere, training])]


def timed_reference(config: dict, out: Path, cache: str) -> tuple[float, float]:
    """An uninterrupted run: (its duration, the second its first checkpoint appeared) in wall seconds."""
    first, t0 = [], time.perf_counter()

    def watch():
        while not first:
            if ckpt.latest(out / "checkpoint") is not None:
                first.append(time.perf_counter() - t0)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    run_child(config, out, cache=cache)
    total = time.perf_counter() - t0
    return total, first[0] if first else total


def history_columns(run: Path) -> dict[str, np.ndarray]:
    """Every column of the final checkpoint's history.csv except the wall-clock ``time``."""
    unit = ckpt.latest(run / "checkpoint")
    h = History.from_csv_text((unit / "history.csv").read_text())
    cols = {name: h.column(name) for name in h.columns if name != "time"}
    return {**cols, "step": h.steps}


def same_columns(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def landed(run: Path) -> str:
    """Where a kill left the run: the step of its latest complete checkpoint ("none" before the first), and
    "+tmp" when a half-written unit was left behind (the kill hit a write)."""
    ckdir = run / "checkpoint"
    unit = ckpt.latest(ckdir)
    where = "none" if unit is None else str(int(unit.name.split("-")[1]))
    return where + ("+tmp" if ckdir.is_dir() and list(ckdir.glob(".tmp-*")) else "")


def one_point(config: dict, out: Path, kill, ref: dict, ref_cols: dict, cache: str, max_restarts: int = 5) -> dict:
    """``kill_and_resume``'s loop (kill a fresh run, resume until it finishes), looking at the checkpoint
    folder between the kill and the first resume."""
    result = dict(kill=kill, killed=None, landed=None, restarts=0, seconds=None, lost=False, corrupted=False,
                  error=None, identical=None, columns_identical=None, tidy=None)
    t0 = time.perf_counter()
    injected = isinstance(kill, str)
    try:
        code = run_child(config, out, crash=kill if injected else None, kill_after=None if injected else kill,
                         cache=cache)
    except RuntimeError as err:  # the fresh run itself failed (not a kill)
        result.update(error=f"first run: {str(err)[-600:]}")
        return result
    result.update(killed=code != 0, landed=landed(out))
    while not (out / "final.npz").exists():
        if result["restarts"] >= max_restarts:
            result["lost"] = True
            return result
        try:
            run_child(config, out, cache=cache)
        except RuntimeError as err:  # the resumed child exited with an error (a traceback)
            result.update(corrupted=True, error=str(err)[-600:])
            return result
        result["restarts"] += 1
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result["identical"] = same(final_arrays(out), ref)
    result["columns_identical"] = same_columns(history_columns(out), ref_cols)
    ckdir = out / "checkpoint"
    result["tidy"] = len(ckpt.units(ckdir)) == 1 and not list(ckdir.glob(".tmp-*"))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--injected", type=int, default=6, help="kills inside checkpoint writes, per configuration")
    ap.add_argument("--timed", type=int, default=6, help="kills at a random second, per configuration")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = ap.parse_args()
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    root = OUT.parent.parent.parent
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=root).stdout.strip()
    if subprocess.run(["git", "status", "--porcelain", "--", "src"], capture_output=True, text=True, cwd=root).stdout:
        git += " + uncommitted src changes"
    print(f"{started}; git {git}; load {os.getloadavg()}", flush=True)
    shutil.rmtree(OUT, ignore_errors=True)
    cache = str(OUT / "xla-cache")
    rng = np.random.default_rng(args.seed)
    report = dict(started=started, git=git, args=vars(args), configs={})
    for name in args.configs:
        config = CONFIGS[name][0]
        t0 = time.perf_counter()
        run_child(config, OUT / name / "ref", cache=cache)  # fills the compilation cache
        cold = time.perf_counter() - t0
        warm, first_checkpoint = timed_reference(config, OUT / name / "ref-warm", cache)  # where timed kills fall
        ref, ref_cols = final_arrays(OUT / name / "ref"), history_columns(OUT / name / "ref")
        repeatable = same(final_arrays(OUT / name / "ref-warm"), ref)
        print(f"{name}: reference run {cold:.1f} s (cold cache), {warm:.1f} s (warm; first checkpoint after "
              f"{first_checkpoint:.1f} s); two uninterrupted runs "
              f"identical: {repeatable}; {checkpoint_writes(config)} checkpoint writes per run", flush=True)
        points = kill_points(config, args.injected, args.timed, warm, first_checkpoint, rng)
        results = []
        for i, kill in enumerate(points):
            results.append(one_point(config, OUT / name / f"kill-{i:02d}", kill, ref, ref_cols, cache))
            r = results[-1]
            print(f"  {name} kill {kill!s:>12}: killed {r['killed']} (latest checkpoint then: {r['landed']}), "
                  f"restarts {r['restarts']}, "
                  f"identical {r['identical']}, history columns identical {r['columns_identical']}, tidy {r['tidy']}"
                  + (f", ERROR {r['error']}" if r["error"] else ""), flush=True)
        report["configs"][name] = dict(cold_s=cold, warm_s=warm, first_checkpoint_s=first_checkpoint,
                                       repeatable=repeatable,
                                       writes=checkpoint_writes(config), results=results)

    rows = ["| configuration | kill points (injected + timed) | killed | lost | corrupted | not identical (final.npz / "
            "history columns) | tidy |", "|---|---|---|---|---|---|---|"]
    for name, rep in report["configs"].items():
        res = rep["results"]
        n_inj = sum(isinstance(r["kill"], str) for r in res)
        rows.append(f"| {CONFIGS[name][1]} | {len(res)} ({n_inj} + {len(res) - n_inj}) | "
                    f"{sum(bool(r['killed']) for r in res)} | {sum(r['lost'] for r in res)} | "
                    f"{sum(r['corrupted'] for r in res)} | {sum(r['identical'] is False for r in res)} / "
                    f"{sum(r['columns_identical'] is False for r in res)} | {sum(bool(r['tidy']) for r in res)} |")
    report["table"] = rows
    report["load_after"] = os.getloadavg()
    (OUT / "results.json").write_text(json.dumps(report, indent=1))
    print(f"\nload after: {report['load_after']}")
    print("\n".join(rows))
    for name, rep in report["configs"].items():
        pairs = ", ".join(f"{r['kill']} -> {r['landed']}" for r in rep["results"])
        print(f"{name}, kill point -> latest checkpoint step at the kill: {pairs}")


if __name__ == "__main__":
    main()
