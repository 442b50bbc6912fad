"""Claim: within 20 CPU-minutes (training + evaluation, one thread), the ``vae-fashion`` VAE's test negative
ELBO and importance-sampled bound are below the per-pixel histogram's ~4.59 bits/dim on Fashion-MNIST.

    python bench/vae_fashion.py [--train-cpu-minutes 14] [--k 100] [--threads 1] [--max-test N]

What it does: loads the built-in ``vae-fashion`` config (dense VAE, 32 latent units, discretised-logistic
decoder over the 256 levels), times 100 steps to size the run so training fits ``--train-cpu-minutes`` of
process CPU time (a callback stops it if it runs over), trains, and evaluates on the 10,000 test images the
negative ELBO and the IWAE bound with ``k`` samples (Burda et al. 2016) next to the add-one per-pixel
histogram. Budgets are CPU time of this process (``time.process_time``), so other jobs on the machine
slow the wall clock but not the budget; the load average is printed so the wall times can be read.
Threads are pinned (XLA and BLAS) before JAX is imported. Needs Fashion-MNIST installed
(``apt-get install dataset-fashion-mnist``).
"""

from __future__ import annotations

import argparse
import os
import sys


def _pin_threads(n: int) -> None:
    os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={'true' if n > 1 else 'false'} " \
                              f"intra_op_parallelism_threads={n}"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train-cpu-minutes", type=float, default=14.0)
    p.add_argument("--k", type=int, default=100, help="importance samples of the IWAE bound")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-test", type=int, default=None, help="evaluate on the first N test images only")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    _pin_threads(a.threads)

    import time

    import jax
    import numpy as np

    from pinngen.config import load_config
    from pinngen.core.train import fit
    from pinngen.generative import likelihood as L
    from pinngen.generative import vae_experiment as kind

    def load() -> str:
        one, five, fifteen = os.getloadavg()
        return f"{one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"

    print(f"load average (1/5/15 min) at start: {load()}; threads pinned to {a.threads}")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    cfg = load_config("vae-fashion", seed=a.seed)
    setup = kind.setup(cfg)
    if setup.spec["dataset"] != "fashion_mnist":
        print("Fashion-MNIST is not installed: this benchmark needs it (apt-get install dataset-fashion-mnist)")
        return 2
    phase = cfg.train.phases[0]

    def probe(n: int) -> float:
        tc = cfg.train.model_copy(update={"phases": [phase.model_copy(update={"steps": n})],
                                          "eval_every": 100, "progress": False})
        c = time.process_time()
        fit(setup.model, setup.data, tc, loss_terms=setup.loss_terms, seed=a.seed)
        return time.process_time() - c

    # Each fit compiles its own step, so the difference of two runs removes compile time.
    per_step = (probe(300) - probe(100)) / 200
    left = a.train_cpu_minutes * 60 - (time.process_time() - cpu0)
    steps = int(max(100, min(phase.steps * 10, 0.93 * left / per_step)))
    train_cfg = cfg.train.model_copy(update={"phases": [phase.model_copy(update={"steps": steps})],
                                             "progress": False})
    print(f"{per_step * 1e3:.1f} ms CPU per step (batch {phase.batch_size}) -> {steps} steps "
          f"({steps * phase.batch_size / len(setup.data['x']):.1f} epochs) for the training budget")

    limit = cpu0 + a.train_cpu_minutes * 60

    def budget(state):
        if time.process_time() > limit:
            state.stop = True

    t_train = time.perf_counter()
    model, history = fit(setup.model, setup.data, train_cfg, loss_terms=setup.loss_terms, seed=a.seed,
                         callbacks=(budget,), **setup.fit_kwargs)
    train_cpu, train_wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(f"trained {len(history)} steps in {time.perf_counter() - t_train:.0f} s wall; "
          f"final train loss {history.last('loss'):.1f} nats, val {history.last('val/loss'):.1f}; "
          f"load now {load()}")

    x_test = setup.extras["test_pixels"][: a.max_test]
    c, t = time.process_time(), time.perf_counter()
    bounds = L.likelihood_bounds(model, x_test.astype(np.float32) / 255.0, jax.random.PRNGKey(a.seed + 1),
                                 k=a.k).summary()
    base = L.histogram_baseline(setup.extras["train_pixels"], x_test, 256)
    eval_cpu, eval_wall = time.process_time() - c, time.perf_counter() - t
    total_cpu, total_wall = time.process_time() - cpu0, time.perf_counter() - wall0

    rows = [("per-pixel histogram (add-one, same train images)", base["nll_nats"], None, base["bpd"]),
            ("VAE negative ELBO", bounds["neg_elbo_nats"], bounds["neg_elbo_nats_sem"], bounds["neg_elbo_bpd"]),
            (f"VAE importance-sampled bound, k={a.k}", bounds["nll_is_nats"], bounds["nll_is_nats_sem"],
             bounds["nll_is_bpd"])]
    print(f"\nFashion-MNIST test, {len(x_test)} images, 784 8-bit pixels (lower is better)")
    print(f"{'model':52s} {'nats/image':>12s} {'+-sem':>7s} {'bits/dim':>9s}")
    for name, nats, sem, bpd in rows:
        print(f"{name:52s} {nats:12.1f} {'' if sem is None else f'{sem:7.1f}':>7s} {bpd:9.3f}")
    print(f"\ntraining: {train_cpu / 60:.1f} CPU-min ({train_wall / 60:.1f} min wall, incl. data and compile); "
          f"evaluation: {eval_cpu / 60:.1f} CPU-min ({eval_wall / 60:.1f} min wall); "
          f"total {total_cpu / 60:.1f} CPU-min, {total_wall / 60:.1f} min wall; load at end {load()}")
    ok = bounds["neg_elbo_bpd"] < base["bpd"] and bounds["nll_is_bpd"] < base["bpd"] and total_cpu <= 20 * 60
    print("claim holds" if ok else "claim does NOT hold", "(both bounds below the histogram within 20 CPU-min)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
