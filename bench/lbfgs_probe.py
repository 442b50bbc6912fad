"""L-BFGS variants from one post-Adam point on the DeepXDE race's Burgers problem (see pinn_vs_deepxde.py).

Trains Adam (lr 1e-3, ``--adam`` steps) from ``--seed``, writes the parameters and points to ``--export`` (for
``lbfgs_probe_torch.py``, which runs PyTorch's L-BFGS from the same point in the DeepXDE venv), then runs
``--iters`` iterations of each variant as one jitted ``lax.scan`` and prints the final loss, the relative L2 on
the 256 x 100 reference grid and the process CPU time.

    python bench/lbfgs_probe.py [--seed 0] [--adam 5000] [--iters 1000] [--f64] VARIANT ...

VARIANT: keep:RTOL (zoom search, optax's initial_guess_strategy "keep", approx_dec_rtol RTOL: our phases' setting
before 2026-11-28), one:RTOL (initial guess "one": optax.lbfgs's own default, and our phases' default since),
backtrack.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("JAX_PLATFORMS", "cpu")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("variants", nargs="+")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--adam", type=int, default=5000)
    ap.add_argument("--iters", type=int, default=1000)
    ap.add_argument("--f64", action="store_true", help="run the L-BFGS phase in float64")
    ap.add_argument("--export", default=str(HERE / "out" / "lbfgs_probe_start.npz"))
    args = ap.parse_args()
    if args.f64:
        os.environ["JAX_ENABLE_X64"] = "1"
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    from pinn_vs_deepxde import _pinngen_setup
    from pinngen.core.train import TrainConfig, fit
    from pinngen.pinn.experiment import predict_all
    from pinngen.pinn.reference import burgers_grid, burgers_reference

    x, t = burgers_grid()
    gx, gt = np.meshgrid(x, t)
    pts = np.column_stack([gx.ravel(), gt.ravel()])
    u_ref = burgers_reference(x, t).ravel()  # (len(t), len(x)) rows, the same order as pts
    model, batch, loss_terms = _pinngen_setup(args.seed)
    cfg = TrainConfig(phases=[dict(optimizer="adam", lr=1e-3, steps=args.adam)], eval_every=100, progress=False)
    m0, _ = fit(model, batch, cfg, loss_terms=loss_terms)
    Path(args.export).parent.mkdir(parents=True, exist_ok=True)
    out = {f"W{i}": np.asarray(layer.weight) for i, layer in enumerate(m0.net.layers)}
    out.update({f"b{i}": np.asarray(layer.bias) for i, layer in enumerate(m0.net.layers)})
    out.update({f"batch_{k}_{kk}": np.asarray(vv) for k, v in batch.items() for kk, vv in v.items()})
    out.update(lo=np.asarray(m0.lo), hi=np.asarray(m0.hi), grid_points=pts, grid_u=u_ref)
    np.savez(args.export, **out)

    def rel(m):
        return float(np.linalg.norm(predict_all(m, pts)[:, 0] - u_ref) / np.linalg.norm(u_ref))

    params0, static = eqx.partition(m0, eqx.is_inexact_array)
    data = jax.tree_util.tree_map(jnp.asarray, batch)
    if args.f64:
        params0 = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), params0)
        data = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), data)
    print(f"seed {args.seed}: after Adam {args.adam} steps rel L2 {rel(m0):.4f}", flush=True)

    def value_fn(p):
        return sum(loss_terms(eqx.combine(p, static), data).values())

    for variant in args.variants:
        name, _, arg = variant.partition(":")
        if name in ("keep", "one"):
            ls = optax.scale_by_zoom_linesearch(max_linesearch_steps=25, approx_dec_rtol=float(arg or 1e-6),
                                                initial_guess_strategy=name)
        elif name == "backtrack":
            ls = optax.scale_by_backtracking_linesearch(max_backtracking_steps=25, store_grad=True)
        else:
            raise SystemExit(f"unknown variant {variant!r}")
        opt = optax.lbfgs(learning_rate=None, memory_size=100, linesearch=ls)
        vg = optax.value_and_grad_from_state(value_fn)

        def step(carry, _, opt=opt, vg=vg):
            p, s = carry
            v, g = vg(p, state=s)
            upd, s = opt.update(g, s, p, value=v, grad=g, value_fn=value_fn)
            return (optax.apply_updates(p, upd), s), v

        run = jax.jit(lambda p, s, step=step: jax.lax.scan(step, (p, s), None, length=args.iters))
        c0 = time.process_time()
        (p, _), vs = run(params0, opt.init(params0))
        vs = np.asarray(vs)
        cpu = time.process_time() - c0
        print(f"{variant}: loss {vs[0]:.3e} -> {vs[-1]:.3e}, rel L2 {rel(eqx.combine(p, static)):.4f}, "
              f"{cpu:.1f} s CPU (compile included)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
