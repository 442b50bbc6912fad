"""Weak scaling of data parallelism (issue 13): the per-device work fixed, the device count grown.

    python bench/scaling.py                          # host devices 1 2 4 on this CPU, PINN-like full batch
    python bench/scaling.py --devices 1 2 4 8 --points 8192

Each device count runs in its own process (``XLA_FLAGS=--xla_force_host_platform_device_count=N``), all on the
same cores (affinity), training an MLP on ``--points`` x N points with a PDE-like loss (the Laplacian of the
network by forward-over-reverse derivatives, as a PINN residual) through ``fit`` with ``train.devices=N``.
Reported: median seconds per step after the first (compiling) chunk, and the weak-scaling efficiency
t(1) / t(N) (1.0 = perfect). On a CPU, host devices share the physical cores: efficiency above 1/N only shows
where there are idle cores to use; on a GPU machine pass the GPUs' count.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys


def child(devices: int, points: int, steps: int, chunk: int) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from pinngen.core.nn import MLP
    from pinngen.core.train import TrainConfig, fit

    def loss_terms(model, batch, key):
        def u(x):
            return model(x[None])[0, 0]

        def lap(x):
            return jnp.trace(jax.jacfwd(jax.grad(u))(x))

        r = jax.vmap(lap)(batch["x"]) - batch["f"]
        return {"pde": jnp.mean(r**2)}

    n = points * devices
    x = np.random.default_rng(0).uniform(-1, 1, (n, 2)).astype(np.float32)
    data = {"x": x, "f": -2 * np.pi**2 * np.sin(np.pi * x[:, :1]) * np.sin(np.pi * x[:, 1:])}
    model = MLP(in_size=2, out_size=1, hidden=[64] * 4, activation="tanh", key=jax.random.PRNGKey(0))
    cfg = TrainConfig(phases=[dict(optimizer="adam", steps=steps, lr=1e-3)], chunk=chunk, eval_every=steps,
                      progress=False, devices=devices)
    _, h = fit(model, data, cfg, loss_terms=loss_terms)
    t = np.asarray(h.column("time"))
    per_chunk = np.diff(t[chunk - 1::chunk]) / chunk  # after the first (compiling) chunk
    return {"devices": devices, "points_per_device": points, "sec_per_step": float(np.median(per_chunk))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--points", type=int, default=4096, help="collocation points per device")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--chunk", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--one-thread", action="store_true", help="each device computes on one thread (host devices "
                   "then run in parallel on separate cores instead of sharing XLA's intra-op pool)")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(child(a.child, a.points, a.steps, a.chunk)))
        return 0
    rows = {d: [] for d in a.devices}
    for _ in range(a.repeats):  # the device counts alternate within each round
        for d in a.devices:
            flags = f"--xla_force_host_platform_device_count={d}"
            if a.one_thread:
                flags += " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
            env = {**os.environ, "XLA_FLAGS": flags,
                   "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
            r = subprocess.run([sys.executable, __file__, "--child", str(d), "--points", str(a.points), "--steps",
                                str(a.steps), "--chunk", str(a.chunk)], env=env, capture_output=True, text=True,
                               check=True)
            rows[d].append(json.loads(r.stdout.strip().splitlines()[-1])["sec_per_step"])
    base = statistics.median(rows[a.devices[0]])
    print(f"load average: {os.getloadavg()}; cores allowed: {sorted(os.sched_getaffinity(0))}")
    print("| devices | points | ms/step (median) | weak-scaling efficiency |")
    print("| --- | --- | --- | --- |")
    for d in a.devices:
        t = statistics.median(rows[d])
        print(f"| {d} | {a.points * d} | {1e3 * t:.1f} | {base / t:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
