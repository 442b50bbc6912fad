"""pinngen's DDPM against a peer DDPM built with HF diffusers on Fashion-MNIST, side by side (issue 10 target).

Both sides train for the same wall-clock budget on the same cores, then draw N samples with DDIM-50 (eta 0, EMA
weights); every sample file, and per-class Gaussian samples as a baseline, is scored by the same project metric
(``pinngen evaluate-samples``: Fréchet distance in the project classifier's feature space, precision, recall,
density, coverage, class histogram). Sides run alternately, each as a subprocess confined to ``--cores`` with
``taskset -c`` (the driver also confines itself with ``os.sched_setaffinity``, so nothing escapes) and the BLAS/
OpenMP thread variables set to ``--threads``; the order flips every seed.

- peer: ``/work/venvs/diffusers/bin/python bench/peers/diffusers_ddpm.py`` (its own venv: CPU torch + diffusers;
  the exact set-up is in that file's docstring);
- pinngen: ``pinngen run ddpm-fashion --set train.max_train_seconds=B``, then ``pinngen sample RUN -n N --sampler
  ddim --steps 50 --eta 0``. Its sampling seconds per image are the whole command's wall time over N (process
  start, JAX import and compilation included: this counts against pinngen); the peer's are its sampling loop only.
  `pinngen run`'s own evaluation after training is trimmed (PINNGEN_EVAL_TRIM; training is untouched).

Training images/s: steps x 64 over each side's training-loop clock (pinngen: the history's ``time``, the clock
``max_train_seconds`` reads, compilation included; peer: from its first step, eager warm-up included). "steady"
leaves out the start (pinngen: its first compiled chunk; peer: its first 10 steps). Sampling batches: each side
its own (peer 64, its fastest per image here; pinngen 500, the experiment's own evaluation batch).

    .venv/bin/python bench/ddpm_vs_diffusers.py                 # 3 seeds x 2 sides x (1200 s + sampling): ~3 h
    .venv/bin/python bench/ddpm_vs_diffusers.py --smoke         # tiny budget and N, end to end
    .venv/bin/python bench/ddpm_vs_diffusers.py --sides diffusers gaussian --seeds 0

Writes ``bench/out/ddpm_vs_diffusers/`` (``--smoke``: its ``smoke/`` subfolder): one folder per side and seed,
``results.json`` (every figure, load averages, commands) and ``table.md`` (also printed last).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PINNGEN = ROOT / ".venv/bin/pinngen"
PEER_SCRIPT = HERE / "peers/diffusers_ddpm.py"
SIDES = ("pinngen", "diffusers", "gaussian", "real-test")
DEFAULT_SIDES = ("pinngen", "diffusers", "gaussian")
# The metric names in the table, and how to find each in evaluate-samples' JSON (the last part of a flattened key).
METRICS = {"fd": r"(fd|fid|frechet.*|frechet_distance)", "precision": r"precision", "recall": r"recall",
           "density": r"density", "coverage": r"coverage", "min_class_share": r"(min_class_share|class_share_min)"}
HIST_KEYS = r"(class_share|class_shares|class_fraction|class_fractions|class_histogram|class_counts|histogram)"
# Where evaluate-samples puts them (sample_metrics.evaluate): "samples" for the file, "reference" for real test images.
DEFAULT_KEYS = {name: f"samples.{'frechet_distance' if name == 'fd' else name}" for name in METRICS}
# Trim what `pinngen run` evaluates after training (its own 2,000 samples, metrics, baseline, 1,000-step DDPM
# timing): the benchmark draws and scores its own samples. Training is untouched.
PINNGEN_EVAL_TRIM = ["evaluation.n_samples=100", "evaluation.metrics=false", "evaluation.baseline=false",
                     "evaluation.timing=[ddim-50]"]
SKIP = 10  # steady-state throughput is counted from the first logged step >= SKIP (compilation / warm-up out)


def log(msg: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S} load {os.getloadavg()[0]:.2f}] {msg}", flush=True)


def child_env(threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    env["JAX_PLATFORMS"] = "cpu"
    env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def call(cmd: list[str], cores: str, env: dict, logfile: Path) -> dict:
    """Run ``cmd`` under ``taskset -c cores``, output to ``logfile``; returns rc, wall seconds and the load."""
    full = ["taskset", "-c", cores, *map(str, cmd)]
    log("$ " + shlex.join(full))
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    with open(logfile, "w", encoding="utf-8") as f:
        rc = subprocess.call(full, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    wall = time.perf_counter() - t0
    if rc != 0:
        tail = logfile.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        log(f"FAILED rc={rc} after {wall:.0f} s; last lines of {logfile}:\n    " + "\n    ".join(tail))
    return dict(cmd=shlex.join(full), rc=rc, wall_s=wall, load_before=load0, load_after=os.getloadavg())


# ------------------------------------------------------------------------------------------------- sides


def run_peer(a, seed: int, d: Path, env: dict) -> dict:
    c = call([a.peer_python, PEER_SCRIPT, "--train-seconds", a.budget_seconds, "--n", a.n, "--seed", seed,
              "--threads", a.threads, "--sample-batch", a.peer_sample_batch, "--out-dir", d],
             a.cores, env, d / "log.txt")
    res = dict(command=c)
    if c["rc"] == 0:
        r = json.loads((d / "result.json").read_text())
        res.update(samples=str(d / "samples.npy"), train_images_per_s=r["train_images_per_s"], steps=r["steps"],
                   train_images_per_s_after_first_steps=r.get("train_images_per_s_after_first_steps"),
                   epochs=r["epochs"], train_s=r["train_wall_s"], sample_s_per_image=r["sample_s_per_image"],
                   params=r["params"], versions=r["versions"])
    return res


def _pinngen_train_figures(run: Path) -> dict:
    """Steps, batch, training seconds and epochs from a pinngen run folder (whatever of them it records)."""
    import yaml

    cfg = yaml.safe_load((run / "config.yaml").read_text())
    summary = json.loads((run / "metrics.json").read_text()).get("summary", {})
    meta = json.loads((run / "history.meta.json").read_text()) if (run / "history.meta.json").is_file() else {}
    phases = meta.get("phases") or []
    steps = sum(p.get("steps_run", 0) for p in phases) or summary.get("steps")
    batch = next((p.get("batch_size") for p in cfg.get("train", {}).get("phases", []) if p.get("batch_size")), None)
    # The loop's own clock (history `time`, compilation included; the clock train.max_train_seconds reads) is the
    # training time; `fit` as a whole (summary train_seconds) adds the last validation and checkpoint writes.
    rows = [line.split(",") for line in (run / "history.csv").read_text().splitlines()]
    ts = [(int(r[rows[0].index("step")]), float(r[rows[0].index("time")])) for r in rows[1:]]
    seconds = ts[-1][1] if ts else summary.get("train_seconds")
    # Times inside a compiled chunk are spread evenly over its steps, so the steady rate starts at the end of the
    # first chunk (compilation out); None when the run had only one chunk.
    chunk = int(cfg.get("train", {}).get("chunk") or 1)
    first = next((x for x in ts if x[0] >= max(SKIP, chunk) - 1), None)
    steady = None
    if first is not None and batch and ts[-1][0] > first[0]:
        steady = (ts[-1][0] - first[0]) * batch / (ts[-1][1] - first[1])
    n_train = summary.get("train_images") or summary.get("n_train")
    if n_train is None:
        n_train = round(60000 * (1 - float(cfg.get("data", {}).get("val") or 0.0)))
    out = dict(steps=steps, batch=batch, train_s=seconds, fit_s=summary.get("train_seconds"), n_train=n_train,
               ema=cfg.get("train", {}).get("ema"),
               train_images_per_s_after_first_steps=steady,
               own_sampling_s_per_sample=summary.get("sampling_seconds_per_sample"))
    if steps and batch and seconds:
        out.update(train_images_per_s=steps * batch / seconds, epochs=steps * batch / n_train)
    return out


def run_pinngen(a, seed: int, d: Path, env: dict) -> dict:
    run = d / "run"
    if run.is_dir():  # a previous attempt of this side and seed (not --reuse'd): start afresh
        shutil.rmtree(run)
    trim = [] if a.pinngen_full_eval else PINNGEN_EVAL_TRIM
    sets = [x for s in [f"train.max_train_seconds={a.budget_seconds}", *trim, *a.pinngen_set] for x in ("--set", s)]
    c1 = call([PINNGEN, "run", "ddpm-fashion", "--out", run, "--seed", seed, "--no-progress", *sets],
              a.cores, env, d / "log_run.txt")
    res = dict(command=c1)
    if c1["rc"] != 0:
        return res
    try:
        res.update(_pinngen_train_figures(run))
    except (OSError, ValueError, KeyError) as e:  # the samples are still worth scoring
        res["train_figures_error"] = f"{type(e).__name__}: {e}"
    samples = d / "samples.npy"
    c2 = call([PINNGEN, "sample", run, "-n", a.n, "--sampler", "ddim", "--steps", 50, "--eta", 0, "--seed", seed,
               "--batch", a.pinngen_sample_batch, "--out", samples], a.cores, env, d / "log_sample.txt")
    res["sample_command"] = c2
    if c2["rc"] == 0:
        res.update(samples=str(samples), sample_s_per_image=c2["wall_s"] / a.n)
    return res


def run_gaussian(a, seed: int, d: Path, env: dict) -> dict:
    """Per-class Gaussian samples fitted to the train images (the project's baseline; imported lazily)."""
    import numpy as np

    from pinngen.data.datasets import fashion_mnist
    from pinngen.generative.sample_metrics import per_class_gaussian_samples

    data = fashion_mnist()
    x = np.asarray(per_class_gaussian_samples(data.x_train.astype(np.float32) / 255.0, data.y_train, a.n, seed))
    np.save(d / "samples.npy", np.clip(x, 0.0, 1.0).astype(np.float32).reshape(a.n, 28, 28))
    return dict(samples=str(d / "samples.npy"))


def run_real(a, seed: int, d: Path, env: dict) -> dict:
    """N real test images (a reference for the metric's scale, not a model)."""
    import numpy as np

    from pinngen.data.datasets import fashion_mnist

    data = fashion_mnist()
    idx = np.random.default_rng(seed).choice(len(data.x_test), a.n, replace=False)
    np.save(d / "samples.npy", (data.x_test[idx].astype(np.float32) / 255.0))
    return dict(samples=str(d / "samples.npy"))


RUNNERS = {"pinngen": run_pinngen, "diffusers": run_peer, "gaussian": run_gaussian, "real-test": run_real}


# ----------------------------------------------------------------------------------------------- scoring


def flatten(obj, prefix: str = "") -> dict:
    if isinstance(obj, dict):
        return {k: v for key, val in obj.items() for k, v in flatten(val, f"{prefix}{key}.").items()}
    return {prefix[:-1]: obj}


def pick_metrics(scores: dict, overrides: dict) -> dict:
    """The table's metrics from evaluate-samples' JSON: ``--key NAME=dotted.path`` first, else by name pattern."""
    flat = flatten(scores)
    out = {}
    for name, pattern in METRICS.items():
        path = overrides.get(name, DEFAULT_KEYS[name])
        if path in flat or name in overrides:
            out[name] = flat.get(path)
            continue
        hits = [k for k, v in flat.items() if isinstance(v, int | float) and not isinstance(v, bool)
                and re.fullmatch(pattern, k.rsplit(".", 1)[-1].lower())]
        out[name] = flat[min(hits, key=len)] if hits else None
    if out["min_class_share"] is None:  # derive it from a class histogram (shares or counts)
        hists = [v for k, v in flat.items() if re.fullmatch(HIST_KEYS, k.rsplit(".", 1)[-1].lower())
                 and isinstance(v, list) and v and all(isinstance(c, int | float) for c in v)]
        if hists and sum(hists[0]) > 0:
            out["min_class_share"] = min(hists[0]) / sum(hists[0])
    return out


def score(a, samples: str, seed: int, d: Path, env: dict) -> dict:
    out = d / "metrics.json"
    c = call([PINNGEN, "evaluate-samples", samples, "--data", "fashion_mnist", "--seed", seed, "--out", out,
              *a.evaluate_args], a.cores, env, d / "log_evaluate.txt")
    if c["rc"] != 0:
        return dict(evaluate_command=c)
    scores = json.loads(out.read_text())
    ref = flatten(scores).get(a.key.get("fd", DEFAULT_KEYS["fd"]).replace("samples.", "reference.", 1))
    return dict(evaluate_command=c, metrics=pick_metrics(scores, a.key), reference_fd=ref, scores=scores)


# ------------------------------------------------------------------------------------------------- table

COLS = [("FD", "fd", "{:.2f}"), ("precision", "precision", "{:.3f}"), ("recall", "recall", "{:.3f}"),
        ("density", "density", "{:.3f}"), ("coverage", "coverage", "{:.3f}"),
        ("min class share", "min_class_share", "{:.3f}"), ("train images/s", "train_images_per_s", "{:.1f}"),
        ("steady images/s", "train_images_per_s_after_first_steps", "{:.1f}"),
        ("epochs", "epochs", "{:.2f}"), ("sampling s/image", "sample_s_per_image", "{:.3f}")]


def value(r: dict, key: str):
    return (r.get("metrics") or {}).get(key, r.get(key))


def fmt(v, spec: str) -> str:
    return "-" if v is None else spec.format(v)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def table(results: list[dict], sides: list[str], seeds: list[int]) -> str:
    head = "| side | seed | " + " | ".join(c[0] for c in COLS) + " |"
    lines = [head, "|" + " --- |" * (len(COLS) + 2)]
    for side in sides:
        rows = [r for r in results if r["side"] == side]
        for r in rows:
            lines.append(f"| {side} | {r['seed']} | " + " | ".join(fmt(value(r, k), s) for _, k, s in COLS) + " |")
        if len(rows) > 1:
            lines.append(f"| **{side}** | median | " + " | ".join(
                fmt(med([value(r, k) for r in rows]), s) for _, k, s in COLS) + " |")
    if {"pinngen", "diffusers"} <= set(sides):
        lines += ["", "Ratios pinngen / diffusers (per seed, then the median of the per-seed ratios):", "",
                  "| seed | FD | train images/s | epochs | sampling s/image |", "| --- | --- | --- | --- | --- |"]
        keys = ("fd", "train_images_per_s", "epochs", "sample_s_per_image")
        ratios = {k: [] for k in keys}
        for s in seeds:
            p = next((r for r in results if r["side"] == "pinngen" and r["seed"] == s), {})
            q = next((r for r in results if r["side"] == "diffusers" and r["seed"] == s), {})
            row = []
            for k in keys:
                x, y = value(p, k), value(q, k)
                ratio = x / y if x is not None and y else None
                ratios[k].append(ratio)
                row.append(fmt(ratio, "{:.2f}"))
            lines.append(f"| {s} | " + " | ".join(row) + " |")
        lines.append("| **median** | " + " | ".join(fmt(med(ratios[k]), "{:.2f}") for k in keys) + " |")
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------------- main


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget-seconds", type=float, default=1200, help="training wall-clock budget per side")
    ap.add_argument("--n", type=int, default=2000, help="samples per side (scored at this N)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=2, help="threads per side (torch, BLAS/OpenMP)")
    ap.add_argument("--cores", default=None, help="taskset core list (default: the first --threads allowed cores)")
    ap.add_argument("--sides", nargs="+", choices=SIDES, default=list(DEFAULT_SIDES))
    ap.add_argument("--smoke", action="store_true", help="budget 30 s, N 64, seed 0: a quick end-to-end check")
    ap.add_argument("--peer-sample-batch", type=int, default=64,
                    help="images the peer samples at a time (64: its fastest per image here, faster than 250)")
    ap.add_argument("--pinngen-sample-batch", type=int, default=500,
                    help="`pinngen sample --batch` (500: the experiment's own evaluation.batch_size)")
    ap.add_argument("--peer-python", default="/work/venvs/diffusers/bin/python", help="the peer venv's python")
    ap.add_argument("--pinngen-set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra --set for `pinngen run ddpm-fashion` (repeatable)")
    ap.add_argument("--pinngen-full-eval", action="store_true",
                    help="keep `pinngen run`'s own evaluation after training (default: trimmed, PINNGEN_EVAL_TRIM)")
    ap.add_argument("--evaluate-args", default="", help="extra arguments for `pinngen evaluate-samples` (one string)")
    ap.add_argument("--key", action="append", default=[], metavar="NAME=DOTTED.PATH",
                    help=f"where a metric is in evaluate-samples' JSON, NAME in {sorted(METRICS)} (repeatable)")
    ap.add_argument("--reuse", action="store_true", help="keep a side/seed whose folder already has record.json")
    ap.add_argument("--out-dir", type=Path, default=HERE / "out/ddpm_vs_diffusers")
    a = ap.parse_args(argv)
    if a.smoke:
        a.budget_seconds, a.n, a.seeds = min(a.budget_seconds, 30.0), min(a.n, 64), a.seeds[:1]
        a.out_dir = a.out_dir / "smoke"
    bad = [k for k in a.key if "=" not in k or k.split("=", 1)[0] not in METRICS]
    if bad:
        ap.error(f"--key {bad[0]!r}: expected NAME=DOTTED.PATH with NAME in {sorted(METRICS)}")
    a.key = dict(k.split("=", 1) for k in a.key)
    a.evaluate_args = shlex.split(a.evaluate_args)
    if a.budget_seconds <= 0 or a.n <= 0 or a.threads <= 0:
        ap.error("--budget-seconds, --n and --threads must be positive")
    allowed = sorted(os.sched_getaffinity(0))
    if a.cores is None:
        if a.threads > len(allowed):
            ap.error(f"--threads {a.threads}: only {len(allowed)} cores are allowed here ({allowed}); lower it")
        a.cores = ",".join(map(str, allowed[:a.threads]))
    if "diffusers" in a.sides and not Path(a.peer_python).is_file():
        ap.error(f"--peer-python {a.peer_python} does not exist; build the peer venv (bench/peers/diffusers_ddpm.py "
                 f"says how) or leave diffusers out of --sides")
    return a


def main(argv=None) -> int:
    a = parse_args(argv)
    os.sched_setaffinity(0, {int(c) for part in a.cores.split(",") for c in _expand(part)})
    env = child_env(a.threads)
    a.out_dir.mkdir(parents=True, exist_ok=True)
    log(f"cores {a.cores}, threads {a.threads}, budget {a.budget_seconds:.0f} s, N {a.n}, seeds {a.seeds}, "
        f"sides {a.sides}")
    timed = [s for s in ("pinngen", "diffusers") if s in a.sides]
    results = []
    for i, seed in enumerate(a.seeds):
        order = (timed if i % 2 == 0 else timed[::-1]) + [s for s in a.sides if s not in timed]
        for side in order:
            d = a.out_dir / f"{side}-s{seed}"
            d.mkdir(parents=True, exist_ok=True)
            rec_file = d / "record.json"
            if a.reuse and rec_file.is_file():
                results.append(json.loads(rec_file.read_text()))
                log(f"{side} seed {seed}: reused {rec_file}")
                continue
            log(f"{side} seed {seed}: start")
            rec = dict(side=side, seed=seed, started=datetime.datetime.now().isoformat(timespec="seconds"))
            try:
                rec.update(RUNNERS[side](a, seed, d, env))
                if rec.get("samples"):
                    rec.update(score(a, rec["samples"], seed, d, env))
            except Exception as e:  # one failed side must not lose hours of the others
                rec["error"] = f"{type(e).__name__}: {e}"
                log(f"{side} seed {seed}: {rec['error']}")
            rec_file.write_text(json.dumps(rec, indent=1, default=str))
            results.append(rec)
            log(f"{side} seed {seed}: {json.dumps(rec.get('metrics'))}")
    md = table(results, list(a.sides), a.seeds)
    refs = [r["reference_fd"] for r in results if r.get("reference_fd") is not None]
    ref = f"Real test images against the same training images score FD {med(refs):.2f} (median)." if refs else ""
    header = (f"# pinngen DDPM vs HF diffusers DDPM (Fashion-MNIST)\n\n{datetime.date.today()}, {platform.node()}, "
              f"{os.cpu_count()} CPUs, cores {a.cores}, {a.threads} threads per side, training budget "
              f"{a.budget_seconds:.0f} s per side, N = {a.n}, DDIM-50 eta 0 with EMA weights, seeds {a.seeds}. "
              f"pinngen sampling s/image = whole `pinngen sample --batch {a.pinngen_sample_batch}` command / N "
              f"(start-up and compilation included); diffusers: its sampling loop only (batch "
              f"{a.peer_sample_batch}). Training images/s on each training loop's clock, start-up included; "
              f"steady: without the first compiled chunk / first 10 steps. {ref}\n\n")
    (a.out_dir / "table.md").write_text(header + md + "\n")
    (a.out_dir / "results.json").write_text(json.dumps(dict(args={k: str(v) for k, v in vars(a).items()},
                                                            results=results), indent=1, default=str))
    print("\n" + header + md, flush=True)
    return 0 if all("error" not in r and r.get("metrics") for r in results) else 1


def _expand(part: str) -> range:
    lo, _, hi = part.partition("-")
    return range(int(lo), int(hi or lo) + 1)


if __name__ == "__main__":
    sys.exit(main())
