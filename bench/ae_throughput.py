"""Training throughput (images/second) of the dense and conv autoencoders: pinngen vs plain PyTorch.

Same networks, same loss (sigmoid + binary cross-entropy from logits), same optimizer (Adam, lr 1e-3), same
minibatch size, same number of threads, on 28x28 images:

* dense: 784-128-64-128-784 (ReLU), 218,192 parameters, batch 256;
* conv: Conv(1->16, s2) - Conv(16->32, s2) - Dense(1568->64) | Dense(64->1568) - up2 - Conv(32->32) - up2 -
  Conv(32->16) - Conv(16->1), 3x3 kernels, ReLU, batch 128.

Ours is the real training loop, ``pinngen.core.train.fit`` (seeded minibatches gathered inside the jitted
chunk, every step's loss recorded): one run of ``(repeats + 1) x chunk`` steps with ``eval_every = chunk``;
each chunk after the first (which includes compilation) is one repeat, timed by the loop's own clock.
PyTorch is an idiomatic eager loop (``zero_grad``, forward, ``backward``, ``step``; minibatches by index from
an epoch permutation), run in its own venv as a subprocess of this script: after warm-up steps, ``repeats``
timed blocks of ``chunk`` steps. Reported: the median images/second of the repeats and the ratio.

    python bench/ae_throughput.py [--repeats 5] [--threads 1] [--torch-python bench/.venv-torch/bin/python]

Threads are pinned before JAX is imported (XLA: single-threaded Eigen, intra-op 1 thread, or N; BLAS/OMP: N)
and in the PyTorch process (``torch.set_num_threads(N)``, OMP/MKL N). The machine load (``os.getloadavg``)
is recorded before and after each part: on a shared machine, compare numbers from the same run only.
Set up the PyTorch venv once with
``python3 -m venv bench/.venv-torch && bench/.venv-torch/bin/pip install torch==2.13.0 numpy``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = {  # name: (architecture, batch, steps per timed chunk)
    "dense": ("dense", 256, 50),
    "conv": ("conv", 128, 10),
}
N_IMAGES = 10_000


def _pin(threads: int) -> None:
    if threads == 1:
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    else:
        os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={threads}"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ["JAX_PLATFORMS"] = "cpu"


def _images(seed: int = 0):
    import numpy as np

    return np.random.default_rng(seed).uniform(0, 1, (N_IMAGES, 28, 28)).astype(np.float32)


# --------------------------------------------------------------------------------------------- pinngen
def run_ours(case: str, repeats: int) -> dict:
    import jax

    from pinngen.core.train import fit
    from pinngen.generative.autoencoder import Autoencoder, autoencoder

    arch, batch, chunk = CASES[case]
    kw = dict(hidden=[128]) if arch == "dense" else dict(channels=[16, 32])
    model = autoencoder(architecture=arch, image_shape=(28, 28), latent=64, output="sigmoid_bce",
                        key=jax.random.PRNGKey(0), **kw)
    cfg = {"phases": [{"optimizer": "adam", "lr": 1e-3, "steps": (repeats + 1) * chunk, "batch_size": batch}],
           "eval_every": chunk, "progress": False}
    t0 = time.perf_counter()
    _, history = fit(model, {"x": _images()}, cfg, loss_terms=Autoencoder.loss_terms, seed=0)
    wall = time.perf_counter() - t0
    ends = history.column("time")[chunk - 1::chunk]  # the loop's clock at the end of each chunk
    chunks = [ends[0]] + [b - a for a, b in zip(ends[:-1], ends[1:], strict=True)]
    timed = chunks[1:]
    rates = [chunk * batch / t for t in timed]
    return dict(images_per_s=statistics.median(rates), rates=rates, params=model.n_params(),
                first_chunk_s=chunks[0], compile_s_estimate=chunks[0] - statistics.median(timed), wall_s=wall,
                final_loss=history.last("loss"))


# --------------------------------------------------------------------------------------------- PyTorch
def torch_worker(case: str, repeats: int, threads: int) -> dict:
    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    arch, batch, chunk = CASES[case]
    if arch == "dense":
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64),
                            nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 784), nn.Unflatten(1, (28, 28)))
    else:
        net = nn.Sequential(
            nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 64),
            nn.Linear(64, 32 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(32, 16, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(16, 1, 3, 1, 1), nn.Flatten(1, 2))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    x = torch.from_numpy(_images())
    rng = np.random.default_rng(0)
    state = {"perm": torch.from_numpy(rng.permutation(N_IMAGES)), "pos": 0}

    def step():
        if state["pos"] + batch > N_IMAGES:
            state["perm"], state["pos"] = torch.from_numpy(rng.permutation(N_IMAGES)), 0
        xb = x[state["perm"][state["pos"]:state["pos"] + batch]]
        state["pos"] += batch
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xb), xb)
        loss.backward()
        opt.step()
        return loss

    for _ in range(chunk):  # warm-up: allocator, first-call overheads
        step()
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(chunk):
            loss = step()
        rates.append(chunk * batch / (time.perf_counter() - t0))
    return dict(images_per_s=statistics.median(rates), rates=rates, final_loss=float(loss),
                params=sum(p.numel() for p in net.parameters()), torch=torch.__version__,
                threads=torch.get_num_threads())


def run_torch(python: str, case: str, repeats: int, threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    cmd = [python, str(Path(__file__).resolve()), "--torch-worker", case, "--repeats", str(repeats),
           "--threads", str(threads)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"PyTorch worker failed ({' '.join(cmd)}):\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------- main
def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    p.add_argument("--torch-python", default=str(HERE / ".venv-torch" / "bin" / "python"))
    p.add_argument("--torch-worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--out", default=str(HERE / "out" / "ae_throughput.json"))
    a = p.parse_args()
    _pin(a.threads)
    if a.torch_worker:
        print(json.dumps(torch_worker(a.torch_worker, a.repeats, a.threads)))
        return 0
    if not Path(a.torch_python).exists():
        print(f"PyTorch venv not found at {a.torch_python}; create it with: python3 -m venv bench/.venv-torch && "
              "bench/.venv-torch/bin/pip install torch==2.13.0 numpy", file=sys.stderr)
        return 2
    import jax

    results = {"threads": a.threads, "repeats": a.repeats, "cpu_count": os.cpu_count(), "jax": jax.__version__,
               "cases": {}}
    for case in a.cases:
        load0 = os.getloadavg()
        ours = run_ours(case, a.repeats)
        load1 = os.getloadavg()
        theirs = run_torch(a.torch_python, case, a.repeats, a.threads)
        load2 = os.getloadavg()
        results["cases"][case] = dict(batch=CASES[case][1], steps_per_repeat=CASES[case][2], pinngen=ours,
                                      torch=theirs, ratio=ours["images_per_s"] / theirs["images_per_s"],
                                      loadavg=[load0, load1, load2])
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(results, indent=1))
    print(f"threads={a.threads}, repeats={a.repeats}, jax {results['jax']}, "
          f"torch {next(iter(results['cases'].values()))['torch']['torch']}, cpus={os.cpu_count()}")
    print(f"{'case':6s} {'batch':>5s} {'params':>8s} {'pinngen img/s':>14s} {'torch img/s':>12s} "
          f"{'ratio':>6s}  load (1-min avg: before, between, after)")
    for case, r in results["cases"].items():
        loads = ", ".join(f"{lo[0]:.1f}" for lo in r["loadavg"])
        print(f"{case:6s} {r['batch']:5d} {r['pinngen']['params']:8d} {r['pinngen']['images_per_s']:14.0f} "
              f"{r['torch']['images_per_s']:12.0f} {r['ratio']:6.2f}  {loads}")
    print(f"(ratio = pinngen / torch, medians of {a.repeats} repeats; results in {a.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
