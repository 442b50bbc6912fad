"""Two-group alternating step: a GAN trained 5:1 (critic:generator) by ``fit`` against a hand-written step.

The model has two MLPs, ``critic`` and ``generator``; the loss terms are the non-saturating GAN losses
(Goodfellow et al. 2014): the critic minimises ``d_real + d_fake``, the generator ``g_adv``. Each training
step is five critic updates, each on a fresh minibatch of 64, then one generator update (on the first of those
minibatches), each player with its own Adam (lr 2e-4, b1 = 0.5, as DCGAN), the noise drawn from the step's key:

- **pinngen**: ``fit(model, data, TrainConfig(phases=[dict(steps=N, batch_size=64, groups={"critic":
  dict(terms=["d_real", "d_fake"], steps=5, ...), "generator": dict(terms=["g_adv"], ...)})], chunk=100,
  eval_every=10**6, checkpoint_every=None, progress=False))``: the library's GroupUpdater inside its jitted
  ``lax.scan`` chunks, recording per step each objective, term, learning rate and gradient norm;
- **hand**: one jitted function per chunk of 100 steps, a ``lax.scan`` over steps of (five critic updates on
  five minibatches, one generator update) written with two ``optax.adam`` transforms over masked halves of
  the parameters (per-step objectives only), called once per chunk with that chunk's minibatch indices.

Both sides draw the same minibatches (seeded permutations, 5 x 64 per step) and the same keys, so they
compute the same trajectory; the per-step losses of the first chunk are compared as a check.

``--attribute`` adds hand-written sides with what the GroupUpdater does beyond the plain step, one thing at a
time: **hand+norms** (a global gradient norm and a finiteness check after each of the six updates),
**hand+gather** (the step's five minibatches gathered at once, (5, 64, dim), then sliced),
**hand+norms+gather** (both), and **hand+last-norms** (the norm and check only after each group's last
update of the step). Ratios are to **hand**; a side that costs what pinngen costs locates the overhead.

Cases: ``ring2d``: 2-D data (8 Gaussians on a ring), generator 16-[128,128]-2, critic 2-[128,128]-1 (a small
step, where loop overhead shows most); ``pixels784``: 784-D data (synthetic pixels in [0, 1]), generator
64-[256,256]-784 (sigmoid output), critic 784-[256,256]-1.

Per-step time excludes compilation: one chunk (compile + first chunk), then ``--chunks`` timed chunks
(pinngen: between its per-chunk callbacks; hand: around the calls). Primary clock: process CPU time; secondary:
wall. The script is confined to one core (``os.sched_setaffinity`` before JAX is imported, one XLA/BLAS
thread); the sides alternate in each repeat (order flipped every repeat); medians over ``--repeats``.

    .venv/bin/python bench/two_group_step.py [--repeats 7] [--chunks 20] [--core 1] [--cases ring2d pixels784]
                                             [--attribute]

Writes ``bench/out/two_group_step.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import os

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--repeats", type=int, default=7)
ap.add_argument("--chunks", type=int, default=20, help="timed chunks of 100 steps per run (after the first)")
ap.add_argument("--core", type=int, default=None, help="the core to run on (default: the last allowed one)")
ap.add_argument("--cases", nargs="+", default=["ring2d", "pixels784"], choices=["ring2d", "pixels784"])
ap.add_argument("--attribute", action="store_true", help="also time hand-written steps with the GroupUpdater's "
                "per-update gradient norms and finiteness checks, and its all-at-once gather")
ARGS = ap.parse_args()

# One core, one thread, before JAX is imported.
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

from pinngen.core.nn import MLP, trainable_filter  # noqa: E402
from pinngen.core.train import TrainConfig, fit  # noqa: E402

C = 100  # steps per compiled chunk on both sides
CRITIC_STEPS = 5
BATCH = 64
LR_C, LR_G, B1 = 2e-4, 2e-4, 0.5
N_DATA = 10_000
SEED = 0
OUT = Path(__file__).resolve().parent / "out"


# ---- the model, its loss terms and the two data sets --------------------------------------------------------


class GAN(eqx.Module):
    critic: MLP
    generator: MLP
    latent: int = eqx.field(static=True)

    def __init__(self, dim: int, latent: int, hidden: list[int], out_activation: str, key):
        kc, kg = jax.random.split(key)
        self.critic = MLP(in_size=dim, out_size=1, hidden=hidden, activation="leaky_relu", key=kc)
        self.generator = MLP(in_size=latent, out_size=dim, hidden=hidden, activation="relu",
                             output_activation=out_activation, key=kg)
        self.latent = latent


def gan_terms(model: GAN, batch, key):
    """Non-saturating GAN losses on a minibatch ``batch["x"]`` (batch, dim); noise (batch, latent) from key."""
    z = jax.random.normal(key, (batch["x"].shape[0], model.latent))
    d_real, d_fake = model.critic(batch["x"]), model.critic(model.generator(z))
    return {"d_real": jnp.mean(jax.nn.softplus(-d_real)), "d_fake": jnp.mean(jax.nn.softplus(d_fake)),
            "g_adv": jnp.mean(jax.nn.softplus(-d_fake))}


def ring2d():
    rng = np.random.default_rng(SEED)
    angle = 2 * np.pi * rng.integers(0, 8, N_DATA) / 8
    x = 2.0 * np.stack([np.cos(angle), np.sin(angle)], 1) + 0.02 * rng.normal(size=(N_DATA, 2))  # (n, 2)
    return GAN(2, 16, [128, 128], "linear", jax.random.PRNGKey(SEED)), {"x": x.astype(np.float32)}


def pixels784():
    x = np.random.default_rng(SEED).uniform(0.0, 1.0, (N_DATA, 784)).astype(np.float32)  # (n, 784)
    return GAN(784, 64, [256, 256], "sigmoid", jax.random.PRNGKey(SEED)), {"x": x}


CASES = {"ring2d": ("GAN 5:1 on 2-D ring, G 16-[128,128]-2, D 2-[128,128]-1, batch 64", ring2d),
         "pixels784": ("GAN 5:1 on 784-D pixels, G 64-[256,256]-784, D 784-[256,256]-1, batch 64", pixels784)}
GROUPS = {"critic": dict(optimizer="adam", args={"b1": B1}, lr=LR_C, terms=["d_real", "d_fake"], steps=CRITIC_STEPS),
          "generator": dict(optimizer="adam", args={"b1": B1}, lr=LR_G, terms=["g_adv"])}


def permutation_indices(n: int, start: int, count: int) -> np.ndarray:
    """Indices (count, 5, 64) for steps start..start+count: a fresh seeded permutation per epoch of
    ``n // 320`` steps (the draw pinngen's Permutation sampler makes for seed 0, phase 0, 5 batches a step)."""
    per = BATCH * CRITIC_STEPS
    per_epoch = n // per
    out = np.empty((count, per), np.int32)
    for j in range(count):
        epoch, pos = divmod(start + j, per_epoch)
        out[j] = np.random.default_rng([SEED, 0, epoch]).permutation(n)[pos * per:(pos + 1) * per]
    return out.reshape(count, CRITIC_STEPS, BATCH)


# ---- the two sides: each returns (timed steps, wall s, cpu s, losses of the first chunk) --------------------


def run_pinngen(case: str, chunks: int):
    model, data = CASES[case][1]()
    marks = []

    def mark(state):
        marks.append((state.step, time.perf_counter(), time.process_time()))

    cfg = TrainConfig(phases=[dict(steps=C * (1 + chunks), batch_size=BATCH, groups=GROUPS)], chunk=C,
                      eval_every=10**6, checkpoint_every=None, progress=False)
    _, history = fit(model, data, cfg, loss_terms=gan_terms, seed=SEED, callbacks=(mark,))
    (s1, w1, c1), (s2, w2, c2) = marks[0], marks[-1]
    return s2 - s1, w2 - w1, c2 - c1, history.column("loss")[:C]


def run_hand(case: str, chunks: int, norms: str = "none", gather_all: bool = False):
    """``norms``: "none", "every" (after each update) or "last" (after each group's last update of the step)."""
    model, data = CASES[case][1]()
    params, static = eqx.partition(model, trainable_filter(model))
    data = jax.tree_util.tree_map(jnp.asarray, data)
    mask_c = jax.tree_util.tree_map_with_path(lambda path, _: path[0].name == "critic", params)
    mask_g = jax.tree_util.tree_map(lambda m: not m, mask_c)
    tx_c, tx_g = optax.adam(LR_C, b1=B1), optax.adam(LR_G, b1=B1)
    phase_key = jax.random.fold_in(jax.random.PRNGKey(SEED), 0)  # fit's key for phase 0

    def objective(own, rest, batch, key, names):
        terms = gan_terms(eqx.combine(own, rest, static), batch, key)
        return sum(terms[n] for n in names)

    def update(params, opt_state, mask, tx, batch, key, names, ok, last):
        own, rest = eqx.partition(params, mask)
        value, grads = jax.value_and_grad(objective)(own, rest, batch, key, names)
        if norms == "every" or (norms == "last" and last):  # the GroupUpdater checks after every update
            ok = ok & jnp.isfinite(value) & jnp.isfinite(optax.tree.norm(grads))
        updates, opt_state = tx.update(grads, opt_state, own)
        return eqx.combine(optax.apply_updates(own, updates), rest), opt_state, value, ok

    @jax.jit
    def chunk(params, s_c, s_g, step0, data, idx):  # idx: (C, 5, 64)
        def step(carry, idx_i):
            params, s_c, s_g, i = carry
            key, ok = jax.random.fold_in(phase_key, i), jnp.bool_(True)
            x5 = data["x"][idx_i] if gather_all else None  # (5, 64, dim), as the GroupUpdater gathers
            minibatch = (lambda k: {"x": x5[k]}) if gather_all else (lambda k: {"x": data["x"][idx_i[k]]})
            for k in range(CRITIC_STEPS):  # five critic updates, a fresh minibatch each
                params, s_c, v_c, ok = update(params, s_c, mask_c, tx_c, minibatch(k), jax.random.fold_in(key, k),
                                              ("d_real", "d_fake"), ok, k == CRITIC_STEPS - 1)
            params, s_g, v_g, ok = update(params, s_g, mask_g, tx_g, minibatch(0), jax.random.fold_in(key, 1000),
                                          ("g_adv",), ok, True)
            return (params, s_c, s_g, i + 1), (v_c + v_g, ok)

        (params, s_c, s_g, _), values = jax.lax.scan(step, (params, s_c, s_g, step0), idx)
        return params, s_c, s_g, values

    n = data["x"].shape[0]
    s_c, s_g = tx_c.init(eqx.filter(params, mask_c)), tx_g.init(eqx.filter(params, mask_g))
    params, s_c, s_g, values = chunk(params, s_c, s_g, jnp.int32(0), data, jnp.asarray(permutation_indices(n, 0, C)))
    first = np.asarray(jax.device_get(values)[0], np.float64)
    w0, c0 = time.perf_counter(), time.process_time()
    for c in range(1, chunks + 1):
        params, s_c, s_g, values = chunk(params, s_c, s_g, jnp.int32(c * C), data,
                                         jnp.asarray(permutation_indices(n, c * C, C)))
        jax.device_get(values)
    return chunks * C, time.perf_counter() - w0, time.process_time() - c0, first


SIDES = {"pinngen": run_pinngen, "hand": run_hand}
if ARGS.attribute:
    SIDES.update({
        "hand+norms": lambda case, chunks: run_hand(case, chunks, norms="every"),
        "hand+gather": lambda case, chunks: run_hand(case, chunks, gather_all=True),
        "hand+norms+gather": lambda case, chunks: run_hand(case, chunks, norms="every", gather_all=True),
        "hand+last-norms": lambda case, chunks: run_hand(case, chunks, norms="last"),
    })


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
            first = {}
            for side in order:
                steps, wall, cpu, first[side] = SIDES[side](case, ARGS.chunks)
                runs.append(dict(repeat=r, case=case, side=side, steps=steps, wall_ms=1e3 * wall / steps,
                                 cpu_ms=1e3 * cpu / steps, load=os.getloadavg()[0]))
                print(f"repeat {r} {case:9s} {side:17s}: {runs[-1]['cpu_ms']:.3f} ms CPU, "
                      f"{runs[-1]['wall_ms']:.3f} ms wall per step, load {runs[-1]['load']:.2f}", flush=True)
            diff = float(np.max(np.abs(first["pinngen"] - first["hand"]) / np.abs(first["hand"])))
            runs[-1]["first_chunk_loss_max_rel_diff"] = diff
            print(f"repeat {r} {case:9s} first chunk's losses, max relative difference: {diff:.2e}", flush=True)

    rows = ["| case | side | CPU ms/step | wall ms/step | CPU ratio to hand (of medians) | median per-repeat "
            "CPU ratio | wall ratio to hand | repeats |", "|---|---|---|---|---|---|---|---|"]
    summary = {}
    for case in ARGS.cases:
        by = {(s, clock): [x[clock] for x in runs if x["case"] == case and x["side"] == s]
              for s in SIDES for clock in ("cpu_ms", "wall_ms")}
        med = {k: statistics.median(v) for k, v in by.items()}
        for side in SIDES:
            ratios = [a / b for a, b in zip(by[side, "cpu_ms"], by["hand", "cpu_ms"], strict=True)]
            summary[f"{case}/{side}"] = dict(cpu_ms=med[side, "cpu_ms"], wall_ms=med[side, "wall_ms"],
                                             cpu_ratio=med[side, "cpu_ms"] / med["hand", "cpu_ms"],
                                             median_cpu_ratio=statistics.median(ratios), cpu_ratios=ratios,
                                             wall_ratio=med[side, "wall_ms"] / med["hand", "wall_ms"])
            row = summary[f"{case}/{side}"]
            rows.append(f"| {CASES[case][0]} | {side} | {row['cpu_ms']:.3f} | {row['wall_ms']:.3f} | "
                        f"{row['cpu_ratio']:.3f} | {row['median_cpu_ratio']:.3f} | {row['wall_ratio']:.3f} | "
                        f"{len(ratios)} |")
    loads = [x["load"] for x in runs]
    print(f"\nload average (1 min) during the runs: {min(loads):.2f} - {max(loads):.2f}")
    print("\n".join(rows))
    OUT.mkdir(exist_ok=True)
    (OUT / "two_group_step.json").write_text(json.dumps(dict(
        started=started, jax=jax.__version__, core=CORE, git=git_state(), args=vars(ARGS), runs=runs,
        summary=summary, table=rows), indent=1))


if __name__ == "__main__":
    main()
