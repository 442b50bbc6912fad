"""Overhead per step of pinngen's training loop against bare jitted Optax loops on the same model.

Per-step time is measured as (T(2N) - T(N)) / N for each loop, which removes compile and set-up time.
Baselines: (a) the usual bare loop, a Python ``for`` calling a jitted (loss, grad, update) step;
(b) the fastest bare loop, the same step inside one jitted ``lax.scan``. pinngen's loop records every
loss term, the gradient norm and the learning rate per step, and evaluates validation data per chunk.

    python bench/train_overhead.py [--repeats 5] [--steps 2000]

Threads are pinned to one (XLA and BLAS), set before JAX is imported. Both wall time and process CPU time
are reported: on a shared, loaded machine the CPU time of a single-threaded run is the steadier figure.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from pinngen.core.nn import MLP  # noqa: E402
from pinngen.core.train import TrainConfig, fit  # noqa: E402

CASES = {
    # name: (in, hidden, out, n, batch_size or None)
    "pinn-size MLP 2-[20]x3-1, full batch 2540": (2, [20, 20, 20], 1, 2540, None),
    "dense 784-256-64-10, minibatch 128 of 10000": (784, [256, 64], 10, 10000, 128),
}


def make(case, seed=0):
    d_in, hidden, d_out, n, _ = CASES[case]
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d_in)).astype(np.float32)
    y = np.tanh(x[:, :d_out] * 2.0).astype(np.float32)
    model = MLP(in_size=d_in, out_size=d_out, hidden=hidden, activation="tanh", key=jax.random.PRNGKey(seed))
    return model, {"x": x, "y": y}


def loss_terms(model, batch, key):
    return {"mse": jnp.mean((model(batch["x"]) - batch["y"]) ** 2)}


def time_pinngen(case, steps):
    model, data = make(case)
    bs = CASES[case][4]
    cfg = TrainConfig(phases=[dict(optimizer="adam", lr=1e-3, steps=steps, batch_size=bs)], eval_every=100,
                      progress=False)
    t, c = time.perf_counter(), time.process_time()
    m, h = fit(model, data, cfg, loss_terms=loss_terms)
    jax.block_until_ready(jax.tree_util.tree_leaves(m))
    return time.perf_counter() - t, time.process_time() - c


def _bare_setup(case):
    model, data = make(case)
    bs = CASES[case][4]
    opt = optax.adam(1e-3)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    data = jax.tree_util.tree_map(jnp.asarray, data)
    n = data["x"].shape[0]

    def loss(p, batch):
        return loss_terms(eqx.combine(p, static), batch, None)["mse"]

    def step(p, s, idx):
        batch = jax.tree_util.tree_map(lambda a: a[idx], data) if bs else data
        v, g = jax.value_and_grad(loss)(p, batch)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, v

    return params, opt, step, n, bs


def time_bare_python(case, steps):
    t, c = time.perf_counter(), time.process_time()
    params, opt, step, n, bs = _bare_setup(case)
    jstep = jax.jit(step)
    state = opt.init(params)
    rng = np.random.default_rng(0)
    perm = rng.permutation(n)
    per_epoch = n // bs if bs else 1
    for i in range(steps):
        idx = jnp.asarray(perm[(i % per_epoch) * bs:(i % per_epoch + 1) * bs]) if bs else None
        params, state, v = jstep(params, state, idx)
    jax.block_until_ready(params)
    return time.perf_counter() - t, time.process_time() - c


def time_bare_scan(case, steps):
    t, c = time.perf_counter(), time.process_time()
    params, opt, step, n, bs = _bare_setup(case)
    per_epoch = n // bs if bs else 1
    perm = np.random.default_rng(0).permutation(n)
    idx = (jnp.asarray(np.stack([perm[(i % per_epoch) * bs:(i % per_epoch + 1) * bs] for i in range(steps)]))
           if bs else None)

    @jax.jit
    def run(p, s, idx):
        def body(c, i):
            p, s = c
            p, s, v = step(p, s, i)
            return (p, s), v

        return jax.lax.scan(body, (p, s), idx, length=steps)

    (params, _), _ = run(params, opt.init(params), idx)
    jax.block_until_ready(params)
    return time.perf_counter() - t, time.process_time() - c


def per_step(fn, case, steps):
    (w2, c2), (w1, c1) = fn(case, 2 * steps), fn(case, steps)
    return (w2 - w1) / steps, (c2 - c1) / steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=2000)
    a = ap.parse_args()
    print(f"jax {jax.__version__} on {jax.default_backend()}, threads pinned to 1; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    print("| case | clock | pinngen fit (us/step) | bare python loop | bare scan | "
          "overhead vs python loop | overhead vs scan |")
    print("|---|---|---|---|---|---|---|")
    for case in CASES:
        res = {"ours": [], "py": [], "scan": []}
        for _ in range(a.repeats):  # alternate the three loops so load drifts hit all of them
            res["ours"].append(per_step(time_pinngen, case, a.steps))
            res["py"].append(per_step(time_bare_python, case, a.steps))
            res["scan"].append(per_step(time_bare_scan, case, a.steps))
        for j, clock in enumerate(("wall", "cpu")):
            med = {k: statistics.median(x[j] for x in v) * 1e6 for k, v in res.items()}
            print(f"| {case} | {clock} | {med['ours']:.1f} | {med['py']:.1f} | {med['scan']:.1f} | "
                  f"{100 * (med['ours'] / med['py'] - 1):+.1f}% | {100 * (med['ours'] / med['scan'] - 1):+.1f}% |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
