"""The DeepXDE half of ``bench/pinn_vs_deepxde.py``; runs in a peer virtual environment, never the project's.

    DDE_BACKEND=pytorch bench/.venv-deepxde/bin/python bench/deepxde_side.py step --threads 1 --out r.json
    DDE_BACKEND=jax bench/.venv-deepxde-jax/bin/python bench/deepxde_side.py accuracy --grid g.npz ...

The driver sets the thread variables (OMP/MKL/OPENBLAS, XLA_FLAGS) in the environment before starting this
process; here torch is pinned again with ``torch.set_num_threads``. The result is one JSON object written to
``--out`` (DeepXDE prints its own progress to stdout, so stdout is not parsed).

Problem: viscous Burgers u_t + u u_x = nu u_xx, nu = 0.01/pi, x in [-1, 1], t in [0, 1], u(x, 0) = -sin(pi x),
u(+-1, t) = 0; network 2-[20]x3-1 tanh (Glorot normal), 2540 domain / 80 boundary / 160 initial points,
Adam lr 1e-3, then DeepXDE's L-BFGS (torch.optim.LBFGS; not available in DeepXDE's JAX backend).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

NU = 0.01 / np.pi
TOLS = (1e-1, 5e-2, 1e-2, 1e-3, 1e-4)  # relative L2 levels whose first crossing is recorded


def _threads(n: int) -> None:
    if os.environ.get("DDE_BACKEND", "pytorch") == "pytorch":
        import torch

        torch.set_num_threads(n)
        try:
            torch.set_num_interop_threads(n)
        except RuntimeError:  # already set (only allowed once, before any parallel work)
            pass


def build(seed: int, recipe: str = "example"):
    """The Burgers set-up in DeepXDE's vocabulary -> (dde, model, backend name, versions). ``recipe="rar"`` is
    the set-up of DeepXDE's documented Burgers_RAR example (2500 domain / 100 boundary points); the residual
    function and the space-time domain are kept on ``model.bench_extras`` for the refinement loop."""
    import deepxde as dde

    dde.config.set_random_seed(seed)
    backend = dde.backend.backend_name

    def residual(xt, out):
        # On the JAX backend the network output arrives as (values, function); derivatives need both.
        u = out[0] if isinstance(out, tuple) else out
        u_x = dde.grad.jacobian(out, xt, i=0, j=0)
        u_t = dde.grad.jacobian(out, xt, i=0, j=1)
        u_xx = dde.grad.hessian(out, xt, i=0, j=0)
        if isinstance(u_x, tuple):  # JAX backend returns (value, function) pairs
            u_x, u_t, u_xx = u_x[0], u_t[0], u_xx[0]
        return u_t + u * u_x - NU * u_xx

    space_time = dde.geometry.GeometryXTime(dde.geometry.Interval(-1.0, 1.0), dde.geometry.TimeDomain(0.0, 1.0))
    walls = dde.icbc.DirichletBC(space_time, lambda xt: np.zeros((len(xt), 1)), lambda _, on_b: on_b)
    start = dde.icbc.IC(space_time, lambda xt: -np.sin(np.pi * xt[:, 0:1]), lambda _, on_i: on_i)
    n_domain, n_boundary = (2500, 100) if recipe == "rar" else (2540, 80)
    data = dde.data.TimePDE(space_time, residual, [walls, start], num_domain=n_domain, num_boundary=n_boundary,
                            num_initial=160)
    net = dde.nn.FNN([2, 20, 20, 20, 1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    model.bench_extras = {"data": data, "residual": residual, "space_time": space_time}
    versions = {"deepxde": dde.__version__, "backend": backend}
    if backend == "pytorch":
        import torch

        versions["torch"] = torch.__version__
        versions["torch_threads"] = torch.get_num_threads()
    else:
        import jax

        versions["jax"] = jax.__version__
    sizes = {"train_x": int(len(data.train_x)), "train_x_all": int(len(data.train_x_all)),
             "bc_points": [int(n) for n in data.num_bcs]}
    versions["points"] = sizes
    return dde, model, backend, versions


class Clock:
    """Process-wide training clock that can be paused while the evaluation runs."""

    def __init__(self):
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        self.paused_w = self.paused_c = 0.0

    def now(self):
        return (time.perf_counter() - self.w0 - self.paused_w, time.process_time() - self.c0 - self.paused_c)


def _callback_base(dde):
    return dde.callbacks.Callback


def run_step(args) -> dict:
    """Per Adam step: K timed iterations after W warm-up iterations, timed inside a callback."""
    t_build = time.perf_counter()
    dde, model, backend, versions = build(args.seed)
    build_s = time.perf_counter() - t_build
    marks = {}
    W, K = args.warmup, args.steps

    class Marks(_callback_base(dde)):
        def __init__(self):
            super().__init__()
            self.i = 0

        def on_epoch_end(self):
            self.i += 1
            if self.i in (1, W, W + K):
                marks[self.i] = (time.perf_counter(), time.process_time())

    w0, c0 = time.perf_counter(), time.process_time()
    model.compile("adam", lr=1e-3)
    model.train(iterations=W + K, display_every=10**9, callbacks=[Marks()], verbose=0)
    (w1, c1), (wa, ca), (wb, cb) = marks[1], marks[W], marks[W + K]
    return dict(side=f"deepxde-{backend}", versions=versions, build_s=build_s, warmup=W, steps=K,
                first_step_wall_s=w1 - w0, first_step_cpu_s=c1 - c0,
                step_wall_ms=(wb - wa) / K * 1e3, step_cpu_ms=(cb - ca) / K * 1e3)


def run_accuracy(args) -> dict:
    """Adam for --adam steps, then L-BFGS (pytorch backend) until --budget seconds of training wall time;
    relative L2 on the reference grid every --every steps (evaluation time excluded from the clock)."""
    ref = np.load(args.grid)
    pts, u_ref = ref["points"], ref["u"].reshape(-1)
    norm = np.linalg.norm(u_ref)
    dde, model, backend, versions = build(args.seed, args.recipe)
    trace, reached = [], {}
    every = args.every
    clock = {}

    class Probe(_callback_base(dde)):
        def __init__(self, phase):
            super().__init__()
            self.phase = phase
            self.i = 0

        def on_epoch_end(self):
            self.i += 1
            if self.phase == "adam" and self.i % every:
                return
            self.evaluate()

        def evaluate(self):
            c = clock["c"]
            wall, cpu = c.now()
            e0, p0 = time.perf_counter(), time.process_time()
            pred = np.asarray(self.model.predict(pts), np.float64).reshape(-1)
            rel = float(np.linalg.norm(pred - u_ref) / norm)
            step = int(self.model.train_state.step)
            trace.append(dict(step=step, phase=self.phase, wall_s=wall, cpu_s=cpu, rel_l2=rel))
            for tol in TOLS:
                if rel <= tol and str(tol) not in reached:
                    reached[str(tol)] = dict(step=step, wall_s=wall, cpu_s=cpu)
            if wall > args.budget or (str(args.goal) in reached and args.stop_at_goal):
                self.model.stop_training = True
                clock["stop"] = True
            c.paused_w += time.perf_counter() - e0
            c.paused_c += time.process_time() - p0

    clock["c"] = Clock()
    clock["stop"] = False
    model.compile("adam", lr=1e-3)
    model.train(iterations=args.adam, display_every=10**9, callbacks=[Probe("adam")], verbose=0)
    lbfgs_note = None
    if not clock["stop"]:
        if backend == "pytorch":
            dde.optimizers.config.set_LBFGS_options(maxcor=100, ftol=0, gtol=1e-8, maxiter=args.lbfgs_max)
            # iter_per_step is derived once at import; reset it so the callback (and our probe) runs every
            # --every L-BFGS iterations instead of every 1000.
            opts = dde.optimizers.config.LBFGS_options
            opts["iter_per_step"] = every
            opts["fun_per_step"] = int(opts["maxfun"] * every // opts["maxiter"])
            model.compile("L-BFGS")
            model.train(display_every=10**9, callbacks=[Probe("lbfgs")], verbose=0)
            if args.recipe == "rar":
                rar_loop(dde, model, Probe, clock, args)
        else:
            lbfgs_note = f"L-BFGS not implemented in DeepXDE's {backend} backend; Adam only"
    wall, cpu = clock["c"].now()
    return dict(side=f"deepxde-{backend}", versions=versions, adam_steps=args.adam, every=every,
                budget_s=args.budget, total_wall_s=wall, total_cpu_s=cpu, steps=int(model.train_state.step),
                final_rel_l2=trace[-1]["rel_l2"] if trace else None, reached=reached, trace=trace,
                note=lbfgs_note, recipe=args.recipe, rar_rounds=clock.get("rar_rounds"))


def rar_loop(dde, model, Probe, clock, args) -> None:
    """DeepXDE's documented Burgers_RAR refinement, as its example writes it: while the mean |residual| on 100,000
    random points exceeds 0.005, add the worst point as an anchor, train Adam (lr 1e-3, up to --rar-adam
    iterations, early stopping with min_delta 1e-4 and patience 2000), then L-BFGS; here also until the budget or
    the goal ends the run."""
    extras = model.bench_extras
    cands = extras["space_time"].random_points(100000)
    rounds = 0
    while not clock["stop"] and rounds < args.rar_adam:
        # the refinement's own residual evaluation is part of the recipe: it stays on the training clock
        err_eq = np.abs(np.asarray(model.predict(cands, operator=extras["residual"]))).reshape(-1)
        if float(np.mean(err_eq)) <= args.rar_threshold:
            break
        extras["data"].add_anchors(cands[int(np.argmax(err_eq))][None])
        model.compile("adam", lr=1e-3)
        model.train(iterations=args.rar_adam, display_every=10**9, disregard_previous_best=True, verbose=0,
                    callbacks=[Probe("adam"), dde.callbacks.EarlyStopping(min_delta=1e-4, patience=2000)])
        if clock["stop"]:
            break
        model.compile("L-BFGS")
        model.train(display_every=10**9, callbacks=[Probe("lbfgs")], verbose=0)
        rounds += 1
    clock["rar_rounds"] = rounds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("step", "accuracy"))
    ap.add_argument("--out", required=True, help="JSON result file")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--steps", type=int, default=200, help="timed Adam steps (step mode)")
    ap.add_argument("--grid", help="npz with points (m, 2) and u (m,) (accuracy mode)")
    ap.add_argument("--adam", type=int, default=2000, help="Adam steps before L-BFGS (accuracy mode)")
    ap.add_argument("--every", type=int, default=100, help="steps between evaluations (accuracy mode)")
    ap.add_argument("--budget", type=float, default=600.0, help="training wall seconds (accuracy mode)")
    ap.add_argument("--lbfgs-max", type=int, default=100000)
    ap.add_argument("--recipe", choices=("example", "rar"), default="example",
                    help="accuracy mode: DeepXDE's Burgers example, or its Burgers_RAR example (refinement loop)")
    ap.add_argument("--rar-adam", type=int, default=10000, help="rar: Adam iterations per round (its example: 10000)")
    ap.add_argument("--rar-threshold", type=float, default=0.005,
                    help="rar: stop the rounds once the mean |residual| is at most this (its example: 0.005; 0: until "
                    "the budget)")
    ap.add_argument("--stop-at-goal", action="store_true", help="stop once --goal is reached")
    ap.add_argument("--goal", type=float, default=1e-3, choices=TOLS, help="relative L2 of --stop-at-goal")
    args = ap.parse_args(argv)
    _threads(args.threads)
    try:
        out = run_step(args) if args.mode == "step" else run_accuracy(args)
    except Exception as err:  # report the failure to the driver instead of a bare traceback
        import traceback

        out = dict(error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc())
    with open(args.out, "w") as fh:
        json.dump(out, fh)
    return 1 if "error" in out else 0


if __name__ == "__main__":
    sys.exit(main())
