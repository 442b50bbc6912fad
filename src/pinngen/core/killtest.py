"""Kill-and-resume harness: train in a child process, SIGKILL it at chosen points, resume until done.

Used by the test suite (a few kill points) and by ``bench/kill_resume.py`` (20 or more). A *kill point* is
either ``"<where>:<n>"`` (the child kills itself inside its n-th checkpoint write, at ``arrays``,
``history``, ``rename`` or ``cleanup``; see :func:`pinngen.core.checkpoint._crash_point`) or a number of
seconds after the child starts (a kill anywhere: during compilation, mid-chunk, between chunks).

The child (``python -m pinngen.core.killtest CONFIG.json OUT_DIR``) builds the experiment's set-up from the
config, trains with ``fit(..., checkpoint_dir=OUT_DIR/checkpoint, resume=True)`` and writes the final
weights and loss history to ``OUT_DIR/final.npz``; ``final_arrays`` reads them back.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def child_main(config_path: str, out: str) -> None:
    import jax

    from pinngen.config import load_config
    from pinngen.core.checkpoint import tree_to_bytes
    from pinngen.core.io import atomic_write_bytes
    from pinngen.core.train import fit
    from pinngen.registry import get_kind
    from pinngen.runs import precision

    cfg = load_config(json.loads(Path(config_path).read_text()))
    with precision(cfg.dtype):
        setup = get_kind(cfg.kind).setup(cfg)
        model, history = fit(setup.model, setup.data, cfg.train, loss_terms=setup.loss_terms, seed=cfg.seed,
                             key=jax.random.PRNGKey(cfg.seed), checkpoint_dir=Path(out) / "checkpoint", resume=True,
                             **setup.fit_kwargs)
        weights = np.load(io.BytesIO(tree_to_bytes(model)))
        metric = history.column("metric/rel_l2") if "metric/rel_l2" in history else np.zeros(0)
        buf = io.BytesIO()
        np.savez(buf, loss=history.column("loss"), metric=metric, steps=history.steps,
                 **{f"w{i}": weights[k] for i, k in enumerate(sorted(weights.files))})
        atomic_write_bytes(Path(out) / "final.npz", buf.getvalue())


def _env(cache: str | None, crash: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PINNGEN_CRASH_AT"}
    env.setdefault("JAX_PLATFORMS", "cpu")
    if cache:  # the resumed children reuse the first one's compiled chunks
        env.update(JAX_COMPILATION_CACHE_DIR=cache, JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                   JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
    if crash:
        env["PINNGEN_CRASH_AT"] = crash
    return env


def run_child(config: dict, out: Path, *, crash: str | None = None, kill_after: float | None = None,
              cache: str | None = None, timeout: float = 600) -> int:
    """One child process; returns its exit code (``-9`` when killed)."""
    out.mkdir(parents=True, exist_ok=True)
    cfg_path = out / "config.json"
    cfg_path.write_text(json.dumps(config))
    proc = subprocess.Popen([sys.executable, "-m", "pinngen.core.killtest", str(cfg_path), str(out)],
                            env=_env(cache, crash), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is not None:
        try:
            proc.wait(kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    if proc.returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"child failed with exit code {proc.returncode}: {err.decode()[-2000:]}")
    return proc.returncode


def kill_and_resume(config: dict, out: Path, kill: str | float, *, cache: str | None = None,
                    max_restarts: int = 5) -> dict:
    """Kill a fresh run at ``kill``, then resume it (no more kills) until it finishes. Returns what
    happened: ``killed`` (the first child died), ``restarts``, ``seconds``."""
    t0 = time.perf_counter()
    if isinstance(kill, str):
        code = run_child(config, out, crash=kill, cache=cache)
    else:
        code = run_child(config, out, kill_after=float(kill), cache=cache)
    # a timed kill can land after the child wrote its result (a fast, unloaded machine): not an interruption
    finished_first = (out / "final.npz").exists()
    restarts = 0
    while not (out / "final.npz").exists():
        if restarts >= max_restarts:
            raise RuntimeError(f"{out}: not finished after {max_restarts} resumes")
        run_child(config, out, cache=cache)
        restarts += 1
    return {"kill": kill, "killed": code != 0 and not finished_first, "restarts": restarts,
            "seconds": time.perf_counter() - t0}


def final_arrays(out: Path) -> dict[str, np.ndarray]:
    with np.load(out / "final.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def same(a: dict, b: dict) -> bool:
    """Bitwise equality of two ``final_arrays`` (NaN equal to NaN)."""
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


if __name__ == "__main__":
    child_main(sys.argv[1], sys.argv[2])
