"""pinngen against DeepXDE on Burgers: time per Adam step and time to accuracy, side by side.

Problem (Raissi et al. 2019; DeepXDE's standard Burgers set-up): u_t + u u_x = nu u_xx, nu = 0.01/pi,
x in [-1, 1], t in [0, 1], u(x, 0) = -sin(pi x), u(+-1, t) = 0. Network 2-[20]x3-1 tanh, Glorot normal;
2540 domain, 80 boundary, 160 initial points (fixed set); loss = unweighted sum of the mean squares;
Adam lr 1e-3, then L-BFGS (history 100, strong-Wolfe line search, gradient tolerance 1e-8); float32.
Accuracy: relative L2 on the 256 x 100 reference grid (``pinn.reference.burgers_reference``, exact
Cole-Hopf in NumPy), handed to every side as one .npz file.

Every side runs as its own subprocess, confined to the same ``--threads`` cores (sched_setaffinity), with
the same thread pinning (set in its environment before any import): pinngen from the project venv
(``pinngen.core.train.fit`` on the library's ``burgers`` problem, ``pinn.network.PINN``,
``pinn.collocation.Collocation`` and ``pinn.loss.make_loss_terms``), DeepXDE from peer venvs
(``bench/deepxde_side.py``; PyTorch backend in ``bench/.venv-deepxde``, JAX backend in
``bench/.venv-deepxde-jax``). Sides alternate, in a rotating order, for ``--repeats`` rounds; ratios are
taken within each round and their median is reported.

    python bench/pinn_vs_deepxde.py [--threads 1 [2]] [--repeats 3] [--adam 5000] [--budget 600]

Per step: pinngen times ``R`` chunks of ``C`` = 100 steps inside fit's per-chunk callback after the first
(compiling) chunk; DeepXDE times ``K`` iterations inside its per-iteration callback after ``W`` warm-up
iterations. Wall is ``time.perf_counter``, CPU is the process's ``time.process_time``.
Time to accuracy: one run per side (Adam for ``--adam`` steps, then L-BFGS), evaluated every ``--every``
steps; the clock starts at the training call (compile included), evaluation time excluded, capped at
``--budget`` seconds of training wall time.
Writes ``bench/out/pinn_vs_deepxde.{md,json}``; the markdown table is printed last.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from race_summary import TOLS, summarise

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PEERS = {"deepxde-pytorch": (HERE / ".venv-deepxde/bin/python", "pytorch"),
         "deepxde-jax": (HERE / ".venv-deepxde-jax/bin/python", "jax")}
SIDES = ("pinngen", "deepxde-pytorch", "deepxde-jax")
HIDDEN = [20, 20, 20]
N_DOMAIN, N_BOUNDARY, N_INITIAL = 2540, 80, 160
CHUNK = 100  # pinngen's eval_every: steps per jitted chunk (the library default)


def thread_env(n: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(n)
    env["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={'false' if n == 1 else 'true'} intra_op_parallelism_threads={n}"
    env["JAX_PLATFORMS"] = "cpu"
    env["CUDA_VISIBLE_DEVICES"] = ""
    return env


# ---- the pinngen worker (runs in a subprocess of the project venv) ------------------------------------


def _pinngen_setup(seed: int):
    import jax

    from pinngen.pinn.collocation import Collocation, CollocationSpec
    from pinngen.pinn.loss import make_loss_terms
    from pinngen.pinn.network import PINN
    from pinngen.pinn.problems import get_problem

    problem = get_problem("burgers", hard=False)
    model = PINN(problem, hidden=HIDDEN, activation="tanh", init="glorot_normal", key=jax.random.PRNGKey(seed))
    spec = CollocationSpec(n_domain=N_DOMAIN, n_boundary=N_BOUNDARY, n_initial=N_INITIAL, method="sobol")
    batch = Collocation(problem, spec, seed=seed).batch(0)
    return model, batch, make_loss_terms(problem)


def _versions_pinngen() -> dict:
    import equinox
    import jax
    import optax

    import pinngen

    return {"jax": jax.__version__, "equinox": equinox.__version__, "optax": optax.__version__,
            "pinngen": getattr(pinngen, "__version__", "?")}


def worker_step(args) -> dict:
    from pinngen.core.train import TrainConfig, fit

    model, batch, loss_terms = _pinngen_setup(args.seed)
    marks = []

    def mark(state):
        marks.append((state.step, time.perf_counter(), time.process_time()))

    chunks = args.chunks
    cfg = TrainConfig(phases=[dict(optimizer="adam", lr=1e-3, steps=CHUNK * (1 + chunks))], eval_every=CHUNK,
                      progress=False)
    w0, c0 = time.perf_counter(), time.process_time()
    fit(model, batch, cfg, loss_terms=loss_terms, callbacks=(mark,))
    (s1, w1, c1), (s2, w2, c2) = marks[0], marks[-1]
    n = s2 - s1
    step_w, step_c = (w2 - w1) / n, (c2 - c1) / n
    return dict(side="pinngen", versions=_versions_pinngen(), steps=n, chunk=CHUNK,
                step_wall_ms=step_w * 1e3, step_cpu_ms=step_c * 1e3,
                first_chunk_wall_s=w1 - w0, first_chunk_cpu_s=c1 - c0,
                first_step_wall_s=(w1 - w0) - (CHUNK - 1) * step_w, first_step_cpu_s=(c1 - c0) - (CHUNK - 1) * step_c)


def worker_bare(args) -> dict:
    """Lower bound in plain JAX + Optax: the same loss written by hand (nested jvp), the same Adam, a jitted
    lax.scan of CHUNK steps; no pinngen code at all. Not a library path: it bounds what any JAX library can do."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    model, batch, _ = _pinngen_setup(args.seed)  # only for the same points and initial weights
    layers = [(jnp.asarray(layer.weight), jnp.asarray(layer.bias)) for layer in model.net.layers]
    nu = 0.01 / np.pi
    xd, xb, vb = jnp.asarray(batch["pde"]["x"]), jnp.asarray(batch["bc"]["x"]), jnp.asarray(batch["bc"]["value"])
    xi, vi = jnp.asarray(batch["ic"]["x"]), jnp.asarray(batch["ic"]["value"])
    scale = jnp.asarray([1.0, 2.0], jnp.float32)
    shift = jnp.asarray([0.0, -1.0], jnp.float32)

    def net(p, x):  # (n, 2) -> (n, 1); same input normalisation as pinngen's PINN
        h = x * scale + shift
        for w, b in p[:-1]:
            h = jnp.tanh(h @ w.T + b)
        w, b = p[-1]
        return h @ w.T + b

    ex = jnp.broadcast_to(jnp.asarray([1.0, 0.0], jnp.float32), xd.shape)
    et = jnp.broadcast_to(jnp.asarray([0.0, 1.0], jnp.float32), xd.shape)

    def loss(p):
        f = lambda x: net(p, x)  # noqa: E731
        fx = lambda x: jax.jvp(f, (x,), (ex,))  # noqa: E731
        (u, ux), (_, uxx) = jax.jvp(fx, (xd,), (ex,))
        ut = jax.jvp(f, (xd,), (et,))[1]
        r = ut + u * ux - nu * uxx
        return jnp.mean(r**2) + jnp.mean((net(p, xb) - vb) ** 2) + jnp.mean((net(p, xi) - vi) ** 2)

    opt = optax.adam(1e-3)

    @jax.jit
    def chunk(p, s):
        def step(carry, _):
            p, s = carry
            v, g = jax.value_and_grad(loss)(p)
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), v

        (p, s), vs = jax.lax.scan(step, (p, s), None, length=CHUNK)
        return p, s, vs

    p, s = layers, opt.init(layers)
    w0, c0 = time.perf_counter(), time.process_time()
    p, s, vs = jax.block_until_ready(chunk(p, s))
    w1, c1 = time.perf_counter(), time.process_time()
    for _ in range(args.chunks):
        p, s, vs = chunk(p, s)
    jax.block_until_ready(vs)
    w2, c2 = time.perf_counter(), time.process_time()
    n = CHUNK * args.chunks
    step_w, step_c = (w2 - w1) / n, (c2 - c1) / n
    return dict(side="bare-jax", versions=_versions_pinngen(), steps=n, step_wall_ms=step_w * 1e3,
                step_cpu_ms=step_c * 1e3, first_step_wall_s=(w1 - w0) - (CHUNK - 1) * step_w,
                first_step_cpu_s=(c1 - c0) - (CHUNK - 1) * step_c, final_loss=float(vs[-1]))


def worker_accuracy(args) -> dict:
    import numpy as np

    from pinngen.core.train import TrainConfig, fit
    from pinngen.pinn.experiment import predict_all

    ref = np.load(args.grid)
    pts, u_ref = ref["points"], ref["u"].reshape(-1)
    norm = np.linalg.norm(u_ref)
    model, batch, loss_terms = _pinngen_setup(args.seed)
    lbfgs = dict(optimizer="lbfgs", steps=args.lbfgs_max, memory=100, max_linesearch_steps=25, tol_grad=1e-8,
                 initial_step="one",
                 tol_change=0.0)
    cfg = TrainConfig(phases=[dict(optimizer="adam", lr=1e-3, steps=args.adam), lbfgs], eval_every=args.every,
                      progress=False)
    trace, reached = [], {}
    clock = {"w0": time.perf_counter(), "c0": time.process_time(), "pw": 0.0, "pc": 0.0}

    def probe(state):
        wall = time.perf_counter() - clock["w0"] - clock["pw"]
        cpu = time.process_time() - clock["c0"] - clock["pc"]
        e0, p0 = time.perf_counter(), time.process_time()
        rel = float(np.linalg.norm(predict_all(state.model, pts)[:, 0] - u_ref) / norm)
        phase = "adam" if state.phase == 0 else "lbfgs"
        trace.append(dict(step=state.step, phase=phase, wall_s=wall, cpu_s=cpu, rel_l2=rel))
        for tol in TOLS:
            if rel <= tol and str(tol) not in reached:
                reached[str(tol)] = dict(step=state.step, wall_s=wall, cpu_s=cpu)
        if wall > args.budget or ("0.001" in reached and args.stop_at_goal):
            state.stop = True
        clock["pw"] += time.perf_counter() - e0
        clock["pc"] += time.process_time() - p0

    clock["w0"], clock["c0"] = time.perf_counter(), time.process_time()
    _, history = fit(model, batch, cfg, loss_terms=loss_terms, callbacks=(probe,))
    wall = time.perf_counter() - clock["w0"] - clock["pw"]
    cpu = time.process_time() - clock["c0"] - clock["pc"]
    phases = history.meta.get("phases", [])
    return dict(side="pinngen", versions=_versions_pinngen(), adam_steps=args.adam, every=args.every,
                budget_s=args.budget, total_wall_s=wall, total_cpu_s=cpu, steps=trace[-1]["step"] if trace else 0,
                final_rel_l2=trace[-1]["rel_l2"] if trace else None, reached=reached, trace=trace,
                note="; ".join(f"{p['optimizer']}: {p['steps_run']} steps, {p['stop_reason']}" for p in phases))


def worker_main(argv) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("step", "bare", "accuracy"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunks", type=int, default=10)
    ap.add_argument("--grid")
    ap.add_argument("--adam", type=int, default=5000)
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--budget", type=float, default=600.0)
    ap.add_argument("--lbfgs-max", type=int, default=100000)
    ap.add_argument("--stop-at-goal", action="store_true")
    args = ap.parse_args(argv)
    fn = {"step": worker_step, "bare": worker_bare, "accuracy": worker_accuracy}[args.mode]
    try:
        out = fn(args)
    except Exception as err:
        import traceback

        out = dict(error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc())
    Path(args.out).write_text(json.dumps(out))
    return 1 if "error" in out else 0


# ---- the driver ----------------------------------------------------------------------------------------


def git_state() -> str:
    """HEAD and the library files that differ from it (read-only git calls): the tree that was measured."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True,
                               text=True, timeout=30).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    dirty = [line[3:] for line in dirty if line.strip()]
    return head + (f" + uncommitted changes in {', '.join(dirty)}" if dirty else "")


def load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def _pin_cores(n: int):
    """Confine a side's process to ``n`` cores (sched_setaffinity): thread variables alone do not stop XLA's
    CPU runtime from running independent operations on a second thread (measured: 1.7 cores busy with
    ``threads = 1``), so each side gets exactly the cores it is allowed."""
    cores = sorted(os.sched_getaffinity(0))[:n] if hasattr(os, "sched_getaffinity") else []

    def pin():
        if cores:
            os.sched_setaffinity(0, cores)

    return pin


def run_side(side: str, mode: str, threads: int, extra: list[str], timeout: float, log) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = fh.name
    env = thread_env(threads)
    if side in ("pinngen", "bare-jax"):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker",
               "bare" if side == "bare-jax" else mode, "--out", out, *extra]
    else:
        python, backend = PEERS[side]
        env["DDE_BACKEND"] = backend
        cmd = [str(python), str(HERE / "deepxde_side.py"), mode, "--out", out, "--threads", str(threads), *extra]
    before = load()
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              preexec_fn=_pin_cores(threads))
        res = json.loads(Path(out).read_text()) if Path(out).stat().st_size else {}
        if not res:
            res = {"error": f"exit {proc.returncode}: {proc.stderr[-2000:]}"}
    except subprocess.TimeoutExpired:
        res = {"error": f"timed out after {timeout:.0f} s"}
    finally:
        Path(out).unlink(missing_ok=True)
    res.update(mode=mode, threads=threads, load_before=before, load_after=load(),
               process_wall_s=time.perf_counter() - t0)
    msg = (f"[{time.strftime('%H:%M:%S')}] {side:16s} {mode:8s} threads={threads} load={before[0]:.1f} "
           + (f"ERROR {res['error'][:300]}" if "error" in res else
              (f"step {res['step_wall_ms']:.2f} ms wall / {res['step_cpu_ms']:.2f} ms CPU, first "
               f"{res['first_step_wall_s']:.1f} s" if mode == "step" else
               f"final rel L2 {res.get('final_rel_l2')}, reached {res.get('reached')}, "
               f"{res.get('steps')} steps in {res.get('total_wall_s', 0):.0f} s")))
    print(msg, file=log, flush=True)
    return res


def write_grid(path: Path) -> None:
    import numpy as np

    from pinngen.pinn.reference import burgers_grid, burgers_reference

    x, t = burgers_grid()
    u = burgers_reference(x, t)  # (len(t), len(x)), u[i, j] = u(x[j], t[i])
    gx, gt = np.meshgrid(x, t)
    np.savez(path, points=np.column_stack([gx.ravel(), gt.ravel()]), u=u.ravel(), x=x, t=t)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        return worker_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
    ap.add_argument("--bare", action="store_true", help="also time a hand-written plain JAX step (lower bound)")
    ap.add_argument("--chunks", type=int, default=10, help="pinngen: timed chunks of 100 steps")
    ap.add_argument("--dde-steps", type=int, default=500, help="DeepXDE: timed Adam iterations")
    ap.add_argument("--adam", type=int, default=5000, help="Adam steps before L-BFGS in the accuracy runs")
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--budget", type=float, default=600.0, help="training wall seconds per accuracy run")
    ap.add_argument("--no-accuracy", action="store_true")
    ap.add_argument("--stop-at-goal", action="store_true", help="end each accuracy run once rel L2 <= 1e-3")
    ap.add_argument("--accuracy-sides", nargs="+", default=None, choices=SIDES,
                    help="sides of the accuracy runs (default: --sides)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="accuracy runs: one per side and seed "
                    "(each side draws its own initial weights and points from the seed)")
    ap.add_argument("--accuracy-threads", type=int, default=None, help="thread count of the accuracy runs "
                    "(default: the first of --threads)")
    args = ap.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    log = sys.stderr
    grid = OUT / "burgers_grid.npz"
    write_grid(grid)
    sides = [s for s in args.sides if s == "pinngen" or PEERS[s][0].exists()]
    meta = dict(date=datetime.datetime.now().isoformat(timespec="seconds"), host=platform.node(),
                cpus=os.cpu_count(), load_before=load(), argv=argv, git=git_state())
    results = {"step": [], "accuracy": []}
    print(f"load before: {meta['load_before']}; sides {sides}", file=log, flush=True)
    step_sides = sides + (["bare-jax"] if args.bare else [])
    for n in args.threads:
        for rnd in range(args.repeats):
            order = step_sides[rnd % len(step_sides):] + step_sides[: rnd % len(step_sides)]
            for side in order:
                extra = (["--chunks", str(args.chunks)] if side in ("pinngen", "bare-jax")
                         else ["--steps", str(args.dde_steps), "--warmup", "20"])
                r = run_side(side, "step", n, extra, 900, log)
                r.update(side_key=side, round=rnd)
                results["step"].append(r)
    if not args.no_accuracy:
        n = args.accuracy_threads or args.threads[0]
        acc_sides = [s for s in (args.accuracy_sides or sides) if s in sides or s == "pinngen"]
        for k, seed in enumerate(args.seeds):
            for side in acc_sides[k % len(acc_sides):] + acc_sides[: k % len(acc_sides)]:
                extra = ["--grid", str(grid), "--adam", str(args.adam), "--every", str(args.every),
                         "--budget", str(args.budget), "--seed", str(seed)] + (
                    ["--stop-at-goal"] if args.stop_at_goal else [])
                r = run_side(side, "accuracy", n, extra, args.budget * 3 + 600, log)
                r.update(side_key=side, seed=seed)
                results["accuracy"].append(r)
    meta["load_after"] = load()
    meta["xla_flags"] = {str(n): thread_env(n)["XLA_FLAGS"] for n in args.threads}
    meta["points"] = f"{N_DOMAIN}/{N_BOUNDARY}/{N_INITIAL}"
    versions = {}
    for r in results["step"] + results["accuracy"]:
        v = r.get("versions") or {}
        for k in ("jax", "equinox", "optax", "torch", "deepxde"):
            if k in v:
                versions[f"{k} ({r['side_key']})" if k == "jax" else k] = v[k]
    meta["versions"] = ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
    text = summarise(results, args, meta)
    (OUT / "pinn_vs_deepxde.json").write_text(json.dumps(dict(meta=meta, results=results), indent=1))
    (OUT / "pinn_vs_deepxde.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
