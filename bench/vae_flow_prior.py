"""Claim: with the same training budget, the VAE with a learned flow prior (``vae-flow-prior``) reaches a better
(lower) test importance-sampled bound than the same VAE with the N(0, I) prior (``vae-fashion``).

    python bench/vae_flow_prior.py [--minutes 10] [--seeds 0 1 2] [--k 100] [--max-test N] [--threads 1]
                                   [--clock wall|cpu] [--out bench/out/vae_flow_prior.json]

What it does: for each seed, trains the ``vae-flow-prior`` config twice, once with ``model.prior=gaussian``
(exactly ``vae-fashion``) and once with its flow prior, alternating which goes first from seed to seed so a
drift in the machine's load hits both alike. The seed drives everything: the validation hold-out, the initial
weights (the flow prior starts as N(0, I) and the encoder/decoder start identical), the batches and the
evaluation draws. Each run gets the same training budget (``--minutes`` of wall-clock time by default, or
process CPU time with ``--clock cpu``): two short probe fits time a step (their difference removes compile
time), the run's step count is sized so its cosine schedule ends inside the budget, and a callback stops it
if it runs over. Evaluation (not part of the budget): the negative ELBO and the IWAE bound with ``k`` draws
(Burda et al. 2016) on the test images, in nats/image and bits/dim, then per seed the difference flow minus
gaussian (negative: the flow prior is better) and the median over seeds. Threads are pinned (XLA and BLAS)
before JAX is imported. Needs Fashion-MNIST (``apt-get install dataset-fashion-mnist``); with
``--allow-fallback`` it runs on the 8x8 digits instead (smoke tests only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _pin_threads(n: int) -> None:
    os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={'true' if n > 1 else 'false'} " \
                              f"intra_op_parallelism_threads={n}"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"


def train_and_score(prior: str, seed: int, a) -> dict:
    """One budgeted training run and its test bounds."""
    import jax
    import numpy as np

    from pinngen.config import load_config
    from pinngen.core.train import fit
    from pinngen.generative import likelihood as L
    from pinngen.generative import vae_experiment as kind

    clock = time.perf_counter if a.clock == "wall" else time.process_time
    cfg = load_config("vae-flow-prior", [f"model.prior={prior}"], seed=seed)
    setup = kind.setup(cfg)
    if setup.spec["dataset"] != "fashion_mnist" and not a.allow_fallback:
        raise SystemExit("Fashion-MNIST is not installed: this benchmark needs it "
                         "(apt-get install dataset-fashion-mnist), or pass --allow-fallback for a smoke test")
    phase = cfg.train.phases[0]

    def probe(n: int) -> float:
        tc = cfg.train.model_copy(update={"phases": [phase.model_copy(update={"steps": n})],
                                          "eval_every": n, "progress": False})
        c = clock()
        fit(setup.model, setup.data, tc, loss_terms=setup.loss_terms, seed=seed, **setup.fit_kwargs)
        return clock() - c

    per_step = max((probe(a.probe_steps[1]) - probe(a.probe_steps[0])) / (a.probe_steps[1] - a.probe_steps[0]),
                   1e-6)
    budget = a.minutes * 60.0
    steps = int(max(10, 0.95 * budget / per_step))
    train_cfg = cfg.train.model_copy(update={"phases": [phase.model_copy(update={"steps": steps})],
                                             "eval_every": max(10, min(cfg.train.eval_every, steps // 4)),
                                             "progress": False})
    start = clock()

    def stop_at_budget(state):
        if clock() - start > budget:
            state.stop = True

    w0, c0 = time.perf_counter(), time.process_time()
    model, history = fit(setup.model, setup.data, train_cfg, loss_terms=setup.loss_terms, seed=seed,
                         callbacks=(stop_at_budget,), **setup.fit_kwargs)
    train_wall, train_cpu = time.perf_counter() - w0, time.process_time() - c0
    ex = setup.extras
    x_test = ex["test_pixels"][: a.max_test]
    w1 = time.perf_counter()
    b = L.likelihood_bounds(model, x_test.astype(np.float32) / ex["pixel_max"], jax.random.PRNGKey(seed + 1),
                            k=a.k, batch_size=100).summary()
    return {"prior": prior, "seed": seed, "dataset": setup.spec["dataset"], "planned_steps": steps,
            "steps": len(history), "ms_per_step": per_step * 1e3, "train_wall_s": train_wall,
            "train_cpu_s": train_cpu, "eval_wall_s": time.perf_counter() - w1, "test_images": len(x_test),
            "k": a.k, "load_after": _load(), **{n: b[n] for n in ("neg_elbo_nats", "neg_elbo_bpd", "nll_is_nats",
                                                                  "nll_is_bpd", "nll_is_nats_sem")}}


def table(runs: list[dict]) -> str:
    import numpy as np

    lines = ["| seed | prior | steps | ms/step | train s (wall) | -ELBO nats | -ELBO bits/dim | IS bound nats "
             "| IS bound bits/dim |", "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['seed']} | {r['prior']} | {r['steps']} | {r['ms_per_step']:.1f} | {r['train_wall_s']:.0f} "
                     f"| {r['neg_elbo_nats']:.2f} | {r['neg_elbo_bpd']:.4f} | {r['nll_is_nats']:.2f} "
                     f"| {r['nll_is_bpd']:.4f} |")
    by = {(r["seed"], r["prior"]): r for r in runs}
    seeds = sorted({r["seed"] for r in runs if (r["seed"], "gaussian") in by and (r["seed"], "flow") in by})
    if not seeds:
        return "\n".join(lines)
    lines += ["", "Flow prior minus Gaussian prior (negative: the flow prior is better)", "",
              "| seed | -ELBO nats | -ELBO bits/dim | IS bound nats | IS bound bits/dim |", "|---|---|---|---|---|"]
    diffs = {n: [] for n in ("neg_elbo_nats", "neg_elbo_bpd", "nll_is_nats", "nll_is_bpd")}
    for s in seeds:
        row = [by[(s, "flow")][n] - by[(s, "gaussian")][n] for n in diffs]
        for n, v in zip(diffs, row, strict=True):
            diffs[n].append(v)
        lines.append(f"| {s} | {row[0]:+.2f} | {row[1]:+.4f} | {row[2]:+.2f} | {row[3]:+.4f} |")
    med = [float(np.median(v)) for v in diffs.values()]
    lines.append(f"| median | {med[0]:+.2f} | {med[1]:+.4f} | {med[2]:+.2f} | {med[3]:+.4f} |")
    better = sum(v < 0 for v in diffs["nll_is_nats"])
    verdict = "holds" if med[2] < 0 else "does NOT hold"
    lines += ["", f"Claim {verdict}: the flow prior's IS bound is lower on {better} of {len(seeds)} seeds, "
              f"median difference {med[2]:+.2f} nats/image ({med[3]:+.4f} bits/dim)."]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="training budget of each run")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall", help="what the budget measures")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--k", type=int, default=100, help="importance samples of the IWAE bound")
    p.add_argument("--max-test", type=int, default=None, help="evaluate on the first N test images only")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--probe-steps", type=int, nargs=2, default=[50, 150], help="the two probe fits' lengths")
    p.add_argument("--allow-fallback", action="store_true", help="run on the 8x8 digits if Fashion-MNIST is missing")
    p.add_argument("--out", default="bench/out/vae_flow_prior.json", help="JSON of every run (and .md of the table)")
    a = p.parse_args(argv)
    _pin_threads(a.threads)
    print(f"load average (1/5/15 min) at start: {_load()}; threads pinned to {a.threads}; "
          f"budget {a.minutes:g} min of {a.clock} time per run", flush=True)
    runs = []
    for i, seed in enumerate(a.seeds):
        for prior in (("gaussian", "flow") if i % 2 == 0 else ("flow", "gaussian")):
            r = train_and_score(prior, seed, a)
            runs.append(r)
            print(f"seed {seed} {prior:8s}: {r['steps']} steps ({r['ms_per_step']:.1f} ms/step) in "
                  f"{r['train_wall_s']:.0f} s wall; -ELBO {r['neg_elbo_bpd']:.4f}, IS bound {r['nll_is_bpd']:.4f} "
                  f"bits/dim on {r['test_images']} {r['dataset']} test images; load {r['load_after']}", flush=True)
    text = table(runs)
    print("\n" + text)
    if a.out:
        os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
        with open(a.out, "w") as f:
            json.dump({"args": vars(a), "runs": runs}, f, indent=1)
        with open(os.path.splitext(a.out)[0] + ".md", "w") as f:
            f.write(text + "\n")
        print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
