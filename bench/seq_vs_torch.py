"""Training-step time of pinngen's LSTM and Transformer block against PyTorch's, one core each (issue 12 target).

Cases (float32, the same sizes on both sides; one step = forward, loss, backward, Adam lr 1e-3 update):

- ``lstm256`` / ``lstm128``: a character LM, batch 64 windows of 128 ids from a vocabulary of 65: an embedding
  of 64 features, one LSTM layer of H units, a linear readout to 65 logits, cross-entropy over every step.
  Ours: an embedding table in front of ``pinngen.sequence.recurrent.SequenceModel(cell="lstm")`` (its
  ``LSTMCell`` scanned by ``rnn.recur``); torch: ``nn.Embedding`` -> ``nn.LSTM`` -> ``nn.Linear``.
- ``block``: one pre-norm Transformer encoder block, batch 32, length 128, d_model 128, 4 heads, ff 512, GELU
  (tanh form on both sides), no dropout, MSE against a random target. Ours:
  ``pinngen.sequence.transformer.EncoderBlock``; torch: ``nn.TransformerEncoderLayer(norm_first=True,
  batch_first=True, dropout=0)``.

Sides (each run is a fresh process, ``taskset -c CORE`` plus ``os.sched_setaffinity`` to the same single core):

- ``fit``: the library's training loop, ``pinngen.core.train.fit`` with one Adam phase and the library's
  samplers (``windows`` for the LM over a 200,000-id random text, ``permutation`` for the block over 512
  random samples), in compiled chunks of ``--chunk`` steps (the chunk also records every loss term, the
  gradient norm and the learning rate and checks each step for non-finite values). The first chunk
  (compilation) is excluded; each later chunk's time (between ``fit``'s per-chunk callbacks) / ``--chunk``.
- ``step``: the library's step function itself (``make_updater(Phase(optimizer="adam"))``'s
  ``GradientUpdater.step``, what ``fit`` scans), under ``jax.jit``, called once per step on pre-drawn batches
  and waited for (``block_until_ready``), like an eager loop: per-call dispatch included.
- ``torch``: ``bench/peers/torch_seq.py`` in its own venv (``torch.set_num_threads(1)``), eager steps on
  pre-drawn batches, ``torch.optim.Adam`` (default implementation: ``foreach`` was no faster here).

One thread per side: ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`` and
OMP/MKL/OPENBLAS=1 for JAX; ``torch.set_num_threads(1)``, ``set_num_interop_threads(1)`` for torch.
Warm-up excluded on every side: ``fit`` its first chunk, ``step`` and ``torch`` their first ``--warmup``
steps (JAX's first call compiles). The sides alternate within each round (the order rotates every round);
each figure is the median over all timed steps of all rounds, per side, of process CPU time (primary: the
machine is shared, and wall time tracks the load) and wall time. The load average (/proc/loadavg) is sampled
every second during each run.

Set-up of the torch venv (done by this script when missing)::

    python3.11 -m venv /work/venvs/torch
    /work/venvs/torch/bin/pip install torch==2.13.0     # FIRST, this exact spec: the local CPU wheel
    /work/venvs/torch/bin/pip install numpy

Run (on the shared 2-core machine at load 4-7: about 3.5 min for ``lstm256``, 5-8 min for ``lstm128 block``)::

    nice -n 19 .venv/bin/python bench/seq_vs_torch.py --cases lstm256 --out seq_vs_torch_lstm256
    nice -n 19 .venv/bin/python bench/seq_vs_torch.py --cases lstm128 block --out seq_vs_torch_lstm128_block
    nice -n 19 .venv/bin/python bench/seq_vs_torch.py --cases lstm256 --hugetlb --out seq_vs_torch_lstm256_hugetlb
    nice -n 19 .venv/bin/python bench/seq_vs_torch.py --cases block --sides step torch --rounds 1   # quick

Page faults: XLA allocates each call's temporaries (about 100 MB for ``lstm128``'s step, 200 MB for
``lstm256``) in one fresh ``mmap``, so every call of a jitted step pays tens of thousands of minor page faults
(the ``sys`` column); ``fit`` pays them once per chunk. ``--hugetlb`` gives both sides glibc's
``GLIBC_TUNABLES=glibc.malloc.hugetlb=1`` (transparent huge pages for large allocations; this kernel's THP mode
is ``madvise``), which removes most of them on both sides.

Writes ``bench/out/seq_vs_torch.json`` (every run: per-step times, loads, losses) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys

CASES = ("lstm256", "lstm128", "block")
SIDES = ("fit", "step", "torch")
ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--steps", type=int, default=20, help="timed steps per run (fit: rounded up to whole chunks)")
ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (step, torch)")
ap.add_argument("--chunk", type=int, default=10, help="fit: steps per compiled chunk")
ap.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
ap.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
ap.add_argument("--core", type=int, default=None, help="the core every side runs on (default: the last allowed)")
ap.add_argument("--torch-python", default="/work/venvs/torch/bin/python")
ap.add_argument("--hugetlb", action="store_true", help="run every side (both) with GLIBC_TUNABLES=glibc.malloc."
                "hugetlb=1: large allocations on transparent huge pages (fewer page faults)")
ap.add_argument("--out", default="seq_vs_torch", help="name of the JSON written under bench/out/")
ap.add_argument("--child", choices=["fit", "step"], help=argparse.SUPPRESS)
ap.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
ARGS = ap.parse_args()
CORE = ARGS.core if ARGS.core is not None else max(os.sched_getaffinity(0))
os.sched_setaffinity(0, {CORE})
os.environ.update(XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
                  OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", JAX_PLATFORMS="cpu")

VOCAB, EMBED, LR, SEED, POOL = 65, 64, 1e-3, 0, 8


# ---- our side (a child process: JAX is imported only here) -------------------------------------------------


def rusage():
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime, r.ru_minflt


def rusage_per_step(a, b, steps: int) -> dict:
    """User and system CPU ms and minor page faults per step between two ``rusage()`` readings."""
    return dict(user_ms=1e3 * (b[0] - a[0]) / steps, sys_ms=1e3 * (b[1] - a[1]) / steps,
                minflt=(b[2] - a[2]) / steps)


def child(side: str, case: str) -> dict:
    import time

    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    from pinngen.core.nn import trainable_filter
    from pinngen.core.optim import Phase
    from pinngen.core.train import TrainConfig, fit
    from pinngen.core.updaters.build import make_updater
    from pinngen.sequence.recurrent import SequenceModel
    from pinngen.sequence.transformer import EncoderBlock

    class CharLSTM(eqx.Module):
        embed: jax.Array  # (vocab, embed)
        net: SequenceModel

        def __init__(self, hidden, key):
            k1, k2 = jax.random.split(key)
            self.embed = jax.random.normal(k1, (VOCAB, EMBED))
            self.net = SequenceModel(in_size=EMBED, hidden_size=hidden, out_size=VOCAB, cell="lstm", key=k2)

    def lm_terms(model, batch, key):
        logits = model.net(model.embed[batch["x"]])
        return {"ce": optax.softmax_cross_entropy_with_integer_labels(logits, batch["y"]).mean()}

    def block_terms(model, batch, key):
        return {"mse": jnp.mean(jnp.square(model(batch["x"])[0] - batch["t"]))}

    rng = np.random.default_rng(SEED)
    key = jax.random.PRNGKey(SEED)
    if case.startswith("lstm"):
        model, terms, batch_size = CharLSTM(int(case[4:]), key), lm_terms, 64
        data = {"x": rng.integers(0, VOCAB, 200_000).astype(np.int32)}
        batching = dict(sampler="windows", length=128, field="x", target="y")
    else:
        model, terms, batch_size = EncoderBlock(128, 4, 512, rotary=False, key=key), block_terms, 32
        data = {"x": rng.standard_normal((512, 128, 128), np.float32),
                "t": rng.standard_normal((512, 128, 128), np.float32)}
        batching = dict(sampler="permutation")
    out = dict(side=side, case=case, params=sum(a.size for a in jax.tree_util.tree_leaves(eqx.filter(
        model, eqx.is_array))), jax=jax.__version__, affinity=sorted(os.sched_getaffinity(0)))

    if side == "fit":
        chunks = -(-ARGS.steps // ARGS.chunk)
        marks = []

        def mark(state):
            marks.append((state.step, time.perf_counter(), time.process_time(), rusage()))

        cfg = TrainConfig(phases=[dict(optimizer="adam", lr=LR, steps=ARGS.chunk * (1 + chunks),
                                       batch_size=batch_size)], chunk=ARGS.chunk, eval_every=10**9,
                          checkpoint_every=None, batching=batching, progress=False)
        _, history = fit(model, data, cfg, loss_terms=terms, seed=SEED, callbacks=(mark,))
        per = [(b[0] - a[0], b[1] - a[1], b[2] - a[2]) for a, b in zip(marks, marks[1:], strict=False)]
        loss = history.column("loss")
        out.update(rusage_per_step(marks[0][3], marks[-1][3], marks[-1][0] - marks[0][0]))
        return {**out, "wall_ms": [1e3 * w / n for n, w, _ in per], "cpu_ms": [1e3 * c / n for n, _, c in per],
                "first_loss": float(loss[0]), "last_loss": float(loss[-1]), "per": f"chunk of {ARGS.chunk}"}

    params, static = eqx.partition(model, trainable_filter(model))
    if case == "block":
        batches = [{k: jnp.asarray(v[i * 32:(i + 1) * 32]) for k, v in data.items()} for i in range(POOL)]
    else:
        s = rng.integers(0, data["x"].size - 129, (POOL, 64))[..., None] + np.arange(128)
        batches = [{"x": jnp.asarray(data["x"][s[i]]), "y": jnp.asarray(data["x"][s[i] + 1])} for i in range(POOL)]
    names = tuple(sorted(eqx.filter_eval_shape(terms, model, batches[0], None)))
    upd = make_updater(Phase(optimizer="adam", lr=LR, steps=10**6), loss_terms=terms, static=static, names=names,
                       params=params, dtype=jnp.float32)
    weights = {n: jnp.float32(1.0) for n in names}
    step = jax.jit(upd.step)
    state = upd.init(params)
    losses, wall, cpu = [], [], []
    for i in range(ARGS.warmup + ARGS.steps):
        if i == ARGS.warmup:
            r0 = rusage()
        w0, c0 = time.perf_counter(), time.process_time()
        params, state, logs = step(params, state, batches[i % POOL], None, weights, jnp.int32(i))
        logs["loss"].block_until_ready()
        if i >= ARGS.warmup:
            wall.append(1e3 * (time.perf_counter() - w0))
            cpu.append(1e3 * (time.process_time() - c0))
        losses.append(float(logs["loss"]))
    out.update(rusage_per_step(r0, rusage(), ARGS.steps))
    return {**out, "wall_ms": wall, "cpu_ms": cpu, "first_loss": losses[0], "last_loss": losses[-1], "per": "step"}


# ---- the driver -----------------------------------------------------------------------------------------------


def ensure_torch_venv(python: str) -> None:
    import subprocess
    from pathlib import Path

    if Path(python).exists():
        return
    venv = Path(python).parent.parent
    print(f"creating the torch venv {venv} (torch==2.13.0: the local CPU wheel, then numpy)", flush=True)
    subprocess.run(["python3.11", "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/pip"), "install", "-q", "torch==2.13.0"], check=True)
    subprocess.run([str(venv / "bin/pip"), "install", "-q", "numpy"], check=True)


def driver() -> None:
    import datetime
    import json
    import statistics
    import subprocess
    import threading
    from pathlib import Path

    here = Path(__file__).resolve()
    root = here.parent.parent
    if "torch" in ARGS.sides:
        ensure_torch_venv(ARGS.torch_python)
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src/pinngen/sequence", "src/pinngen/core"],
                           cwd=root, capture_output=True, text=True).stdout.strip()
    git = git.strip() + (" + uncommitted src changes" if dirty else "")
    print(f"core {CORE}, 1 thread per side; {started}; git {git}; loadavg {open('/proc/loadavg').read().strip()}",
          flush=True)

    def command(side, case):
        common = ["--case", case, "--steps", str(ARGS.steps), "--warmup", str(ARGS.warmup)]
        if side == "torch":
            return [ARGS.torch_python, str(here.parent / "peers/torch_seq.py"), *common, "--core", str(CORE)]
        return [sys.executable, str(here), "--child", side, *common, "--chunk", str(ARGS.chunk), "--core", str(CORE)]

    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    if ARGS.hugetlb:
        env["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1"
    runs = []
    for r in range(ARGS.rounds):
        order = ARGS.sides[r % len(ARGS.sides):] + ARGS.sides[:r % len(ARGS.sides)]
        for case in ARGS.cases:
            for side in order:
                loads, done = [], threading.Event()

                def sample(loads=loads, done=done):
                    while not done.wait(1.0):
                        loads.append(float(open("/proc/loadavg").read().split()[0]))

                t = threading.Thread(target=sample, daemon=True)
                t.start()
                proc = subprocess.run(["taskset", "-c", str(CORE), *command(side, case)], cwd=root, env=env,
                                      capture_output=True, text=True)
                done.set()
                t.join()
                if proc.returncode != 0:
                    raise SystemExit(f"{side} {case} failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
                res = json.loads(proc.stdout.strip().splitlines()[-1])
                res.update(round=r, load_min=min(loads, default=None), load_max=max(loads, default=None),
                           load_mean=statistics.fmean(loads) if loads else None)
                runs.append(res)
                print(f"round {r} {case:7s} {side:5s}: median {statistics.median(res['cpu_ms']):7.1f} ms CPU "
                      f"({res['user_ms']:.1f} user + {res['sys_ms']:.1f} sys, {res['minflt']:.0f} page faults) "
                      f"{statistics.median(res['wall_ms']):7.1f} ms wall per step; loss {res['first_loss']:.4f} -> "
                      f"{res['last_loss']:.4f}; load {res['load_min']}-{res['load_max']}", flush=True)

    rows = ["| case | side | CPU ms/step (median) | of which sys | page faults/step | wall ms/step (median) | "
            "torch CPU / side CPU | timed values |", "|---|---|---|---|---|---|---|---|"]
    summary = {}
    for case in ARGS.cases:
        med = {}
        for side in ARGS.sides:
            sel = [x for x in runs if x["case"] == case and x["side"] == side]
            cpu = [v for x in sel for v in x["cpu_ms"]]
            wall = [v for x in sel for v in x["wall_ms"]]
            med[side] = dict(cpu=statistics.median(cpu), wall=statistics.median(wall), n=len(cpu),
                             run_medians=[statistics.median(x["cpu_ms"]) for x in sel],
                             sys=statistics.median(x["sys_ms"] for x in sel),
                             minflt=statistics.median(x["minflt"] for x in sel))
        summary[case] = med
        for side in ARGS.sides:
            ratio = (f"{med['torch']['cpu'] / med[side]['cpu']:.2f}x" if "torch" in med and side != "torch" else "")
            m = med[side]
            rows.append(f"| {case} | {side} | {m['cpu']:.1f} | {m['sys']:.1f} | {m['minflt']:.0f} | {m['wall']:.1f} | "
                        f"{ratio} | {m['n']} |")
    loads = [x for r in runs for x in (r["load_min"], r["load_max"]) if x is not None]
    print(f"\nload average (1 min) during the runs: {min(loads):.2f} - {max(loads):.2f}; "
          f"GLIBC_TUNABLES={env.get('GLIBC_TUNABLES')}")
    print("\n".join(rows))
    out = root / "bench/out"
    out.mkdir(exist_ok=True)
    (out / f"{ARGS.out}.json").write_text(json.dumps(dict(
        started=started, core=CORE, git=git, args=vars(ARGS), glibc_tunables=env.get("GLIBC_TUNABLES"), runs=runs,
        summary=summary, table=rows, loadavg_range=[min(loads), max(loads)]), indent=1))


if __name__ == "__main__":
    if ARGS.child:
        import json

        print(json.dumps(child(ARGS.child, ARGS.case)))
    else:
        driver()
