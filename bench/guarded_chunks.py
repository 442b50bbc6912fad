"""Guarded chunks: how often ``fit`` compiles its guarded chunk, and what each chunk costs.

``fit`` runs a phase in jitted chunks (``pinngen.core.chunk.make_chunks``); the *guarded* form runs L-BFGS
(an updater that may stop on its own), chunks that end before ``chunk`` steps (an evaluation or checkpoint
cadence that is not a multiple of the chunk) and NaN replays. It takes the step ``limit`` past which steps are
no-ops. This script counts the XLA compilations of ``jit(guarded)`` (from JAX's compile log) and times every
chunk, in two cases on the Burgers PINN of ``bench/pinn_vs_deepxde.py`` (2-[20]x3-1 tanh, 2540+80+160 points):

- ``lbfgs``: Adam 200 steps, then L-BFGS 500 steps, ``chunk=100`` (every L-BFGS chunk is guarded);
- ``cadence``: Adam 600 steps, ``chunk=100``, ``eval_every=40``, ``checkpoint_every=100`` (checkpoints to a
  temporary folder): the chunks that end at a checkpoint between two evaluations are cut short (guarded).

Each case runs as the library is (``as is``) and with ``limit`` handed to the guarded chunk as a ``jnp.int32``
array instead of a Python int (``limit as array``: a wrapper around ``make_chunks`` here, src untouched), which
is what ``eqx.filter_jit`` needs to treat it as a traced value rather than a static one.

    .venv/bin/python bench/guarded_chunks.py [--core 1]

One core (``os.sched_setaffinity`` before JAX is imported), one XLA/BLAS thread; process CPU time per chunk.
"""

from __future__ import annotations

import argparse
import os

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--core", type=int, default=None, help="the core to run on (default: the last allowed one)")
ARGS = ap.parse_args()
CORE = ARGS.core if ARGS.core is not None else max(os.sched_getaffinity(0))
os.sched_setaffinity(0, {CORE})
os.environ.update(XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
                  OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", JAX_PLATFORMS="cpu")

import datetime  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import pinngen.core.chunk as chunk  # noqa: E402
import pinngen.core.train as train  # noqa: E402
from pinngen.pinn.collocation import Collocation, CollocationSpec  # noqa: E402
from pinngen.pinn.loss import make_loss_terms  # noqa: E402
from pinngen.pinn.network import PINN  # noqa: E402
from pinngen.pinn.problems import get_problem  # noqa: E402

CASES = {
    "lbfgs": dict(phases=[dict(optimizer="adam", lr=1e-3, steps=200), dict(optimizer="lbfgs", steps=500)],
                  eval_every=10**6),
    "cadence": dict(phases=[dict(optimizer="adam", lr=1e-3, steps=600)], eval_every=40, checkpoint_every=100),
}


# The module(s) whose loop calls make_chunks (imported by name there), where the wrapper is put.
LOOP_MODULES = [m for name, m in list(sys.modules.items()) if name.startswith("pinngen.") and m is not chunk
                and getattr(m, "make_chunks", None) is chunk.make_chunks]


class CompileCounter(logging.Handler):
    """Counts JAX's "Finished XLA compilation of jit(guarded)" log lines (``jax_log_compiles``)."""

    def __init__(self):
        super().__init__()
        self.n = 0

    def emit(self, record):
        if "XLA compilation of jit(guarded)" in record.getMessage():
            self.n += 1


def limit_as_array(make_chunks):
    def wrapped(*args, **kwargs):
        fast, guarded = make_chunks(*args, **kwargs)
        return fast, lambda *a: guarded(*a[:-1], jnp.int32(a[-1]))

    return wrapped


def run(case: str, counter: CompileCounter) -> list[tuple]:
    problem = get_problem("burgers", hard=False)
    model = PINN(problem, hidden=[20, 20, 20], activation="tanh", init="glorot_normal", key=jax.random.PRNGKey(0))
    batch = Collocation(problem, CollocationSpec(n_domain=2540, n_boundary=80, n_initial=160), seed=0).batch(0)
    counter.n = 0
    marks = [(0, None, time.perf_counter(), time.process_time(), 0)]

    def mark(state):
        marks.append((state.step, state.phase, time.perf_counter(), time.process_time(), counter.n))

    cfg = train.TrainConfig(**{"checkpoint_every": None, **CASES[case]}, chunk=100, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        train.fit(model, batch, cfg, loss_terms=make_loss_terms(problem), callbacks=(mark,),
                  checkpoint_dir=tmp if cfg.checkpoint_every else None)
    return [(s, ph, w - w0, c - c0, n) for (_, _, w0, c0, _), (s, ph, w, c, n) in zip(marks, marks[1:], strict=False)]


def main() -> None:
    print(f"jax {jax.__version__}, core {CORE}, 1 thread; {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M}; "
          f"load {os.getloadavg()}; make_chunks called from {[m.__name__ for m in LOOP_MODULES]}", flush=True)
    if not LOOP_MODULES:
        raise SystemExit("no pinngen module imports make_chunks by name; update LOOP_MODULES")
    counter = CompileCounter()
    jax.config.update("jax_log_compiles", True)
    logging.getLogger("jax").addHandler(counter)
    logging.getLogger("jax").setLevel(logging.WARNING)
    logging.getLogger("jax").propagate = False  # keep the compile log off the terminal
    original = chunk.make_chunks
    rows = ["| case | variant | chunks | guarded compiles | CPU s per chunk after the first of its phase (median / "
            "max) | total CPU s |", "|---|---|---|---|---|---|"]
    for case in CASES:
        for variant in ("as is", "limit as array"):
            for module in LOOP_MODULES:
                module.make_chunks = original if variant == "as is" else limit_as_array(original)
            chunks = run(case, counter)
            for step, phase, wall, cpu, n in chunks:
                print(f"{case:7s} {variant:14s} step {step:4d} phase {phase}: {cpu:6.2f} s CPU, {wall:6.2f} s wall, "
                      f"guarded compiles so far {n}", flush=True)
            later = sorted(c[3] for i, c in enumerate(chunks) if i and chunks[i - 1][1] == c[1])
            rows.append(f"| {case} | {variant} | {len(chunks)} | {chunks[-1][4]} | {later[len(later) // 2]:.2f} / "
                        f"{later[-1]:.2f} | "
                        f"{sum(c[3] for c in chunks):.1f} |")
    for module in LOOP_MODULES:
        module.make_chunks = original
    print(f"\nload {os.getloadavg()}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
