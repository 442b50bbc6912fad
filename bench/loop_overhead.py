"""Loop overhead: pinngen's ``fit`` against a hand-fused ``lax.scan`` of exactly the same step.

Both sides run the same loss function, the same Optax transform (Adam, lr 1e-3), the same data and (for
minibatches) the same seeded permutation minibatches, gathered inside the compiled step, in jitted chunks of
``C`` = 100 steps with one host sync per chunk:

- **pinngen**: ``fit(model, data, TrainConfig(chunk=100, eval_every=10**6, checkpoint_every=None,
  progress=False))``, which also records every loss term, the gradient norm and the learning rate per step,
  checks each step for non-finite values and does its host work between chunks;
- **fused**: a jitted ``lax.scan`` of 100 ``(value_and_grad, tx.update, apply_updates)`` steps written by hand
  (per-step loss only), called once per chunk with that chunk's minibatch indices, the losses fetched after it.

Cases: (a) ``pinn``: the Burgers PINN of ``bench/pinn_vs_deepxde.py`` (the library's ``burgers`` problem,
``pinn.network.PINN`` 2-[20]x3-1 tanh, a fixed Sobol ``Collocation`` of 2540 domain / 80 boundary / 160
initial points, ``pinn.loss.make_loss_terms``: second derivatives by nested forward mode), full batch;
(b) ``images``: the library's dense autoencoder 784-128-64-128-784 (sigmoid + BCE) on 10,000 synthetic
784-pixel images on the device, minibatches of 128 from a fresh seeded permutation per epoch.

Per-step time excludes compilation: each side runs one chunk (compile + first chunk), then ``--chunks`` more
are timed (pinngen: between its per-chunk callbacks; fused: around the calls), divided by the number of timed
steps. Primary clock: process CPU time (``time.process_time``); secondary: wall time. The whole script is
confined to one core (``os.sched_setaffinity``, set before JAX is imported, with one XLA/BLAS thread), the sides
alternate within each repeat (the order flips every repeat), and the table gives medians over ``--repeats``
and the ratio of the medians (plus the median of the per-repeat ratios). A check compares the per-step losses
of the two sides' first chunk (same step, same minibatches: they agree to float32 rounding; later steps drift
apart by rounding amplified through Adam, so final weights are not compared).

    .venv/bin/python bench/loop_overhead.py [--repeats 7] [--chunks 20] [--core 1] [--cases pinn images]

Writes ``bench/out/loop_overhead.json`` (every run, load averages) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import os

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--repeats", type=int, default=7)
ap.add_argument("--chunks", type=int, default=20, help="timed chunks of 100 steps per run (after the first)")
ap.add_argument("--core", type=int, default=None, help="the core to run on (default: the last allowed one)")
ap.add_argument("--cases", nargs="+", default=["pinn", "images"], choices=["pinn", "images"])
ARGS = ap.parse_args()

# One core, one thread, before JAX is imported (thread variables alone let XLA use more cores).
CORE = ARGS.core if ARGS.core is not None else max(os.sched_getaffinity(0))
os.sched_setaffinity(0, {CORE})
os.environ.update(XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
                  OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", JAX_PLATFORMS="cpu")

import datetime  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from pinngen.core.nn import trainable_filter  # noqa: E402
from pinngen.core.train import TrainConfig, fit  # noqa: E402
from pinngen.generative.autoencoder import dense_autoencoder  # noqa: E402
from pinngen.pinn.collocation import Collocation, CollocationSpec  # noqa: E402
from pinngen.pinn.loss import make_loss_terms  # noqa: E402
from pinngen.pinn.network import PINN  # noqa: E402
from pinngen.pinn.problems import get_problem  # noqa: E402

C = 100  # steps per compiled chunk on both sides
LR = 1e-3
SEED = 0
OUT = Path(__file__).resolve().parent / "out"


# ---- the two cases: (model, data, loss_terms, batch_size) ---------------------------------------------------


def pinn_case():
    problem = get_problem("burgers", hard=False)
    model = PINN(problem, hidden=[20, 20, 20], activation="tanh", init="glorot_normal", key=jax.random.PRNGKey(SEED))
    spec = CollocationSpec(n_domain=2540, n_boundary=80, n_initial=160, method="sobol")
    return model, Collocation(problem, spec, seed=SEED).batch(0), make_loss_terms(problem), None


def images_case():
    model = dense_autoencoder(image_shape=(28, 28), latent=64, hidden=(128,), output="sigmoid_bce",
                              key=jax.random.PRNGKey(SEED))
    x = np.random.default_rng(SEED).uniform(0.0, 1.0, (10_000, 28, 28)).astype(np.float32)  # (n, H, W)
    return model, {"x": x}, type(model).loss_terms, 128


CASES = {"pinn": ("Burgers PINN 2-[20]x3-1, full batch 2540+80+160 points", pinn_case),
         "images": ("dense AE 784-128-64-128-784, minibatch 128 of 10,000", images_case)}


def permutation_indices(n: int, batch: int, start: int, count: int) -> np.ndarray:
    """Minibatch indices (count, batch) for steps start..start+count: a fresh seeded permutation per epoch,
    the last partial batch dropped (the draw pinngen's Permutation sampler makes for seed 0, phase 0)."""
    per_epoch = n // batch
    out = np.empty((count, batch), np.int32)
    for j in range(count):
        epoch, pos = divmod(start + j, per_epoch)
        out[j] = np.random.default_rng([SEED, 0, epoch]).permutation(n)[pos * batch:(pos + 1) * batch]
    return out


# ---- the two sides: each returns (timed steps, wall s, cpu s, losses of the first chunk) -------------------------


def run_pinngen(case: str, chunks: int):
    model, data, loss_terms, batch = CASES[case][1]()
    marks = []

    def mark(state):
        marks.append((state.step, time.perf_counter(), time.process_time()))

    cfg = TrainConfig(phases=[dict(optimizer="adam", lr=LR, steps=C * (1 + chunks), batch_size=batch)], chunk=C,
                      eval_every=10**6, checkpoint_every=None, progress=False)
    _, history = fit(model, data, cfg, loss_terms=loss_terms, seed=SEED, callbacks=(mark,))
    (s1, w1, c1), (s2, w2, c2) = marks[0], marks[-1]
    return s2 - s1, w2 - w1, c2 - c1, history.column("loss")[:C]


def run_fused(case: str, chunks: int):
    model, data, loss_terms, batch = CASES[case][1]()
    params, static = eqx.partition(model, trainable_filter(model))
    data = jax.tree_util.tree_map(jnp.asarray, data)
    n = jax.tree_util.tree_leaves(data)[0].shape[0]
    tx = optax.adam(LR)

    def loss(p, b):
        terms = loss_terms(eqx.combine(p, static), b, None)
        return sum(terms[k] for k in sorted(terms))

    @jax.jit
    def chunk(p, s, data, idx):  # idx: (C, batch) minibatch indices, or (C,) unused for full batch
        def step(carry, i):
            p, s = carry
            b = jax.tree_util.tree_map(lambda a: a[i], data) if batch else data
            value, grads = jax.value_and_grad(loss)(p, b)
            updates, s = tx.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), value

        (p, s), values = jax.lax.scan(step, (p, s), idx)
        return p, s, values

    def indices(c):
        return permutation_indices(n, batch, c * C, C) if batch else np.zeros(C, np.int32)

    state = tx.init(params)
    params, state, values = chunk(params, state, data, jnp.asarray(indices(0)))  # compile + first chunk
    first = np.asarray(jax.device_get(values), np.float64)
    w0, c0 = time.perf_counter(), time.process_time()
    for c in range(1, chunks + 1):
        params, state, values = chunk(params, state, data, jnp.asarray(indices(c)))
        jax.device_get(values)
    return chunks * C, time.perf_counter() - w0, time.process_time() - c0, first


SIDES = {"pinngen": run_pinngen, "fused": run_fused}


def max_rel_diff(a, b) -> float:
    return float(np.max(np.abs(a - b) / np.abs(b)))


def git_state() -> str:
    root = Path(__file__).resolve().parent.parent
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True,
                           text=True).stdout
    return head.strip() + (" + uncommitted src changes" if dirty.strip() else "")


def main() -> None:
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    print(f"jax {jax.__version__}, {jax.default_backend()}, core {CORE}, 1 thread; {started}; git {git_state()}; "
          f"load {os.getloadavg()}", flush=True)
    runs = []
    for r in range(ARGS.repeats):
        order = list(SIDES) if r % 2 == 0 else list(SIDES)[::-1]
        for case in ARGS.cases:
            finals = {}
            for side in order:
                steps, wall, cpu, finals[side] = SIDES[side](case, ARGS.chunks)
                runs.append(dict(repeat=r, case=case, side=side, steps=steps, wall_ms=1e3 * wall / steps,
                                 cpu_ms=1e3 * cpu / steps, load=os.getloadavg()[0]))
                print(f"repeat {r} {case:6s} {side:7s}: {runs[-1]['cpu_ms']:.3f} ms CPU, {runs[-1]['wall_ms']:.3f} "
                      f"ms wall per step, load {runs[-1]['load']:.2f}", flush=True)
            diff = max_rel_diff(finals["pinngen"], finals["fused"])
            runs[-1]["first_chunk_loss_max_rel_diff"] = diff
            print(f"repeat {r} {case:6s} first chunk's losses, max relative difference: {diff:.2e}", flush=True)

    rows = ["| case | clock | pinngen fit (ms/step) | hand-fused scan (ms/step) | ratio of medians | "
            "median per-repeat ratio | repeats |", "|---|---|---|---|---|---|---|"]
    summary = {}
    for case in ARGS.cases:
        for clock in ("cpu_ms", "wall_ms"):
            by = {s: [x[clock] for x in runs if x["case"] == case and x["side"] == s] for s in SIDES}
            ratios = [a / b for a, b in zip(by["pinngen"], by["fused"], strict=True)]
            med = {s: statistics.median(v) for s, v in by.items()}
            summary[f"{case}/{clock}"] = dict(medians=med, ratio=med["pinngen"] / med["fused"],
                                              median_ratio=statistics.median(ratios), ratios=ratios)
            rows.append(f"| {CASES[case][0]} | {'CPU' if clock == 'cpu_ms' else 'wall'} | {med['pinngen']:.3f} | "
                        f"{med['fused']:.3f} | {med['pinngen'] / med['fused']:.3f} | {statistics.median(ratios):.3f} "
                        f"| {len(ratios)} |")
    loads = [x["load"] for x in runs]
    print(f"\nload average (1 min) during the runs: {min(loads):.2f} - {max(loads):.2f}")
    print("\n".join(rows))
    OUT.mkdir(exist_ok=True)
    (OUT / "loop_overhead.json").write_text(json.dumps(dict(
        started=started, jax=jax.__version__, core=CORE, git=git_state(), args=vars(ARGS), runs=runs,
        summary=summary, table=rows), indent=1))


if __name__ == "__main__":
    main()
