"""Which convolution path is fastest on this CPU inside a scanned training loop, and how fast the U-Net trains.

Part ``stack``: a small U-Net-like stack of 3x3 convolutions (conv_in 32, stride-2 down to 64 and 64,
nearest-upsample + conv back up, concatenated skips, SiLU; 11 convolutions, 286,785 parameters) trained by
``value_and_grad`` and a plain SGD update, ``steps`` steps per jitted loop, batch 64, at 28x28 and 32x32
(1 channel). Four variants with the same weights:

* ``im2col``: :class:`pinngen.core.nn.Conv2d` (patches + one matrix product), channels-last, JAX's autodiff;
* ``lax-nhwc``: ``lax.conv_general_dilated`` with NHWC / HWIO, JAX's autodiff;
* ``lax-nchw``: ``lax.conv_general_dilated`` with NCHW / OIHW (the layout of jax-ml/jax#12868), JAX's autodiff;
* ``lax-nhwc-vjp``: :func:`pinngen.core.nn.conv_lax.conv2d_nhwc`, NHWC / HWIO forward with the hand-written
  backward pass (input gradient as a canonical convolution, weight gradient as cached matrix products).

Forward-only time is measured the same way: ``steps`` forward passes chained in the loop (as a sampler runs
them).

Part ``unet``: :class:`pinngen.generative.diffusion.denoisers.UNet` (channels (32, 64, 64), one block per
level, attention at 7x7 and in the middle, GroupNorm 8, time embedding 128; 1,112,801 parameters) with
``conv="im2col"`` and ``conv="lax"`` (= ``lax-nhwc-vjp``), both with the default ``split=4`` (the batch run as 4
independent pieces), and ``lax-split1`` (one piece): Adam training steps on the epsilon-prediction loss
(linear 1,000-step schedule, random timesteps and noise drawn inside the step), batch 64, 28x28x1; and
forward-only time per image at batch 64.

The loops are ``lax.fori_loop`` with a traced trip count (a while loop, what ``lax.scan`` compiles to), so one
compilation serves a 1-step probe and the timed runs; a variant whose probe step takes longer than ``--cap``
seconds is reported from that single step only. Each thread count runs in its own process, confined to the
first N cores by ``os.sched_setaffinity`` before JAX is imported (thread variables alone let XLA use more).
Inside it every variant is compiled and probed, then the fast variants alternate for ``--rounds`` rounds;
reported: medians in ms per step and images/s, process CPU seconds per step, and the load average
(``os.getloadavg``) before and after.

    .venv/bin/python bench/conv_paths.py [--threads 1 2] [--rounds 3] [--parts stack unet]

Writes ``bench/out/conv_paths.json`` (every timing) and prints a markdown table.
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
BATCH = 64
STACK_VARIANTS = ("im2col", "lax-nhwc", "lax-nchw", "lax-nhwc-vjp")
UNET_VARIANTS = ("im2col", "lax", "lax-split1")  # the model's default split (4 pieces), and lax in one piece


def _pin(threads: int) -> None:
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])
    flag = "true" if threads > 1 else "false"
    extra = os.environ.get("XLA_FLAGS", "")  # e.g. to try XLA's CPU options: kept after ours
    os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={flag} {extra}".strip()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ["JAX_PLATFORMS"] = "cpu"


# ------------------------------------------------------------------------------------------- the stack
def _stack(key, c_img):
    import jax

    from pinngen.core.nn import Conv2d

    spec = [(c_img, 32, 1), (32, 32, 1), (32, 64, 2), (64, 64, 1), (64, 64, 2), (64, 64, 1),  # down
            (64, 64, 1), (128, 64, 1), (64, 32, 1), (64, 32, 1), (32, c_img, 1)]  # up, skips, out
    keys = jax.random.split(key, len(spec))
    return [Conv2d(a, b, 3, s, key=k) for (a, b, s), k in zip(spec, keys, strict=True)]


def _stack_forward(convs, x, variant):
    """The stack on ``x`` (channels-last, or channels-first for ``lax-nchw``)."""
    import jax
    import jax.numpy as jnp

    from pinngen.core.nn.conv_lax import conv2d_nhwc

    first = variant == "lax-nchw"
    cax = 1 if first else -1

    def conv(c, h):
        if variant == "im2col":
            return c(h)
        if variant == "lax-nhwc-vjp":
            return conv2d_nhwc(h, c.weight, c.bias, c.stride)
        dn = ("NCHW", "OIHW", "NCHW") if first else ("NHWC", "HWIO", "NHWC")
        y = jax.lax.conv_general_dilated(h, c.weight, (c.stride,) * 2, ((1, 1), (1, 1)), dimension_numbers=dn)
        return y + (c.bias[:, None, None] if first else c.bias)

    def up(h, like):
        ax = (2, 3) if first else (1, 2)
        h = jnp.repeat(jnp.repeat(h, 2, axis=ax[0]), 2, axis=ax[1])
        return jax.lax.slice_in_dim(jax.lax.slice_in_dim(h, 0, like.shape[ax[0]], axis=ax[0]),
                                    0, like.shape[ax[1]], axis=ax[1])

    act = jax.nn.silu
    h0 = act(conv(convs[0], x))
    h1 = act(conv(convs[1], h0))  # full resolution
    h2 = act(conv(convs[3], act(conv(convs[2], h1))))  # 1/2
    h3 = act(conv(convs[5], act(conv(convs[4], h2))))  # 1/4
    u = act(conv(convs[6], up(h3, h2)))
    u = act(conv(convs[7], jnp.concatenate([u, h2], axis=cax)))
    u = act(conv(convs[8], up(u, h1)))
    u = act(conv(convs[9], jnp.concatenate([u, h1], axis=cax)))
    return conv(convs[10], u)


def _loops(loss, update, forward, x):
    """Jitted ``train(state, key, steps)`` and ``fwd(params, x, steps)``: ``fori_loop``s with a traced trip
    count (a while loop, like ``lax.scan``), so one compilation serves the 1-step probe and the timed runs."""
    import jax

    @jax.jit
    def train(state, key, steps):
        def body(i, carry):
            state, _ = carry
            val, g = jax.value_and_grad(loss)(state[0], jax.random.fold_in(key, i))
            return update(state, g), val
        return jax.lax.fori_loop(0, steps, body, (state, 0.0))

    @jax.jit
    def fwd(params, xb, steps):
        return jax.lax.fori_loop(0, steps, lambda i, h: h - 0.01 * forward(params, h, i), xb)

    return train, fwd


def _stack_case(variant, size):
    """(train, fwd, state, params, x, n_params) for one variant of the stack at ``size``."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from pinngen.core.nn import count_params

    convs = _stack(jax.random.PRNGKey(0), 1)
    if variant == "lax-nchw":  # same weights, OIHW
        convs = [eqx.tree_at(lambda c: c.weight, c, jnp.transpose(c.weight, (3, 2, 0, 1))) for c in convs]
    shape = (BATCH, 1, size, size) if variant == "lax-nchw" else (BATCH, size, size, 1)
    x = jax.random.normal(jax.random.PRNGKey(1), shape)

    def loss(p, k):
        noise = jax.random.normal(k, x.shape)
        return jnp.mean(jnp.square(_stack_forward(p, x + noise, variant) - noise))

    def update(state, g):
        return (jax.tree_util.tree_map(lambda a, b: a - 1e-3 * b, state[0], g),)

    train, fwd = _loops(loss, update, lambda p, h, i: _stack_forward(p, h, variant), x)
    return train, fwd, (convs,), convs, x, count_params(convs)


# -------------------------------------------------------------------------------------------- the U-Net
def _unet_case(conv, size):
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import optax

    from pinngen.core.nn import count_params
    from pinngen.generative.diffusion.denoisers import UNet

    path, _, one = conv.partition("-split")
    model = UNet((size, size, 1), conv=path, key=jax.random.PRNGKey(0), **({"split": int(one)} if one else {}))
    alpha_bar = jnp.cumprod(1.0 - jnp.linspace(1e-4, 0.02, 1000))
    x0 = jax.random.uniform(jax.random.PRNGKey(1), (BATCH, size, size, 1)) * 2 - 1
    opt = optax.adam(1e-3)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def loss(p, k):
        k1, k2 = jax.random.split(k)
        t = jax.random.randint(k1, (BATCH,), 0, 1000)
        eps = jax.random.normal(k2, x0.shape)
        ab = alpha_bar[t][:, None, None, None]
        out = eqx.combine(p, static)(jnp.sqrt(ab) * x0 + jnp.sqrt(1 - ab) * eps, t)
        return jnp.mean(jnp.square(out - eps))

    def update(state, g):
        upd, s = opt.update(g, state[1], state[0])
        return optax.apply_updates(state[0], upd), s

    def forward(p, h, i):
        return eqx.combine(p, static)(h, jnp.full((BATCH,), 999 - i, jnp.int32))

    train, fwd = _loops(loss, update, forward, x0)
    return train, fwd, (params, opt.init(params)), params, x0, count_params(model)


# ------------------------------------------------------------------------------------------- measuring
def _time(fn, *args):
    import jax

    w0, c0 = time.perf_counter(), time.process_time()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - w0, time.process_time() - c0


def child(args) -> dict:
    threads = args.threads[0]
    _pin(threads)
    import jax

    cases, out = {}, {"threads": threads, "cores": sorted(os.sched_getaffinity(0)), "jax": jax.__version__,
                      "load_before": os.getloadavg(), "steps": args.steps, "runs": {}}
    key = jax.random.PRNGKey(1)
    for part in args.parts:
        for size in args.sizes if part == "stack" else args.unet_sizes:
            variants = STACK_VARIANTS if part == "stack" else UNET_VARIANTS
            for v in variants:
                name = f"{part}/{size}/{v}"
                train, fwd, state, p, x, n_params = (_stack_case if part == "stack" else _unet_case)(v, size)
                t0 = time.perf_counter()
                jax.block_until_ready(fwd(p, x, 1))  # compiles; the probes below run one step each
                jax.block_until_ready(train(state, key, 1))
                run = out["runs"][name] = {"compile_s": time.perf_counter() - t0, "params": n_params,
                                           "probe_s": _time(train, state, key, 1)[0],
                                           "forward_probe_s": _time(fwd, p, x, 1)[0], "train": [], "forward": []}
                if run["probe_s"] <= args.cap:
                    cases[name] = (train, fwd, state, p, x)
    for r in range(args.rounds):
        for name, (train, fwd, state, p, x) in cases.items():
            out["runs"][name]["train"].append(_time(train, state, jax.random.PRNGKey(r), args.steps))
            out["runs"][name]["forward"].append(_time(fwd, p, x, args.steps))
    out["load_after"] = os.getloadavg()
    return out


def _table(results) -> str:
    rows = ["| threads | case | params | train ms/step | train img/s | train CPU s/step | forward ms/image "
            "| compile s |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    probed = False
    for res in results:
        steps = res["steps"]
        for name, r in res["runs"].items():
            if r["train"]:
                wall = statistics.median(w for w, _ in r["train"]) / steps
                cpu = f"{statistics.median(c for _, c in r['train']) / steps:.2f}"
                fwd = statistics.median(w for w, _ in r["forward"]) / steps / BATCH
                mark = ""
            else:  # too slow for the rounds: one step, once
                wall, cpu, fwd, mark, probed = r["probe_s"], "-", r["forward_probe_s"] / BATCH, "*", True
            rows.append(f"| {res['threads']} | {name} | {r['params']:,} | {1e3 * wall:.1f}{mark} "
                        f"| {BATCH / wall:.1f}{mark} | {cpu} | {1e3 * fwd:.2f}{mark} | {r['compile_s']:.0f} |")
    loads = "; ".join(f"{r['threads']} thread(s): load {tuple(round(v, 2) for v in r['load_before'])} -> "
                      f"{tuple(round(v, 2) for v in r['load_after'])}" for r in results)
    note = "\n\n\\* slower than --cap per step: a single 1-step run, not a median" if probed else ""
    return "\n".join(rows) + note + f"\n\nLoad averages (1, 5, 15 min): {loads}\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[2])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=5, help="training (and forward) steps per timed scan")
    ap.add_argument("--parts", nargs="+", default=["stack", "unet"], choices=["stack", "unet"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[28, 32], help="image sizes for the stack")
    ap.add_argument("--unet-sizes", type=int, nargs="+", default=[28], help="image sizes for the U-Net")
    ap.add_argument("--cap", type=float, default=20.0,
                    help="seconds per training step above which a variant is timed once (its probe) only")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    results = []
    for n in args.threads:
        cmd = [sys.executable, __file__, "--child", "--threads", str(n), "--rounds", str(args.rounds),
               "--steps", str(args.steps), "--cap", str(args.cap), "--parts", *args.parts,
               "--sizes", *map(str, args.sizes), "--unet-sizes", *map(str, args.unet_sizes)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            sys.exit(f"child with {n} thread(s) failed:\n{proc.stderr[-3000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "conv_paths.json").write_text(json.dumps(results, indent=1))
    print(_table(results))


if __name__ == "__main__":
    main()
