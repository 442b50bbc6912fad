"""Regenerate tests/core/data/real_curves/: short real trainings whose loss curves check diagnose().

Each entry trains one built-in experiment (the family's own ``setup``, so the stored diagnose context is
what a real run stores) with a few settings changed: good, too-high and too-low learning rates for Adam and
SGD, dropout, a PINN with Adam then L-BFGS, a VAE. Only the history is kept, as ``NAME.csv`` (the columns
diagnose() reads, 6 significant digits) and ``NAME.meta.json`` (context, phases, term names; no timings),
so the files are deterministic on one machine and small. tests/core/test_diagnose_curves.py asserts what
diagnose() must say about each.

    .venv/bin/python tests/core/data/make_real_curves.py            # all
    .venv/bin/python tests/core/data/make_real_curves.py reg-adam-high
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import jax
import numpy as np

from pinngen.config import load_config
from pinngen.core.train import fit
from pinngen.registry import get_kind
from pinngen.runs import set_precision

OUT = Path(__file__).parent / "real_curves"

# Dense regression: the lecture's diabetes model (10-10 ReLU, Adam, batch 32), 600 steps.
_REG = ["train.phases.0.epochs=null", "train.phases.0.steps=600", "train.eval_every=20"]
# Dense classification of the 8x8 digits (64-32 ReLU, batch 64), 600 steps, no dropout unless said.
_CLS = ["train.phases.0.steps=600", "train.eval_every=20", "model.dropout=0.0"]

CURVES: dict[str, tuple[str, list[str]]] = {
    "reg-adam-good": ("dense-diabetes", [*_REG, "train.phases.0.lr=0.01"]),
    "reg-adam-high": ("dense-diabetes", [*_REG, "train.phases.0.lr=1.0"]),
    "reg-adam-low": ("dense-diabetes", [*_REG, "train.phases.0.lr=1e-5"]),
    "reg-sgd-good": ("dense-diabetes", [*_REG, "train.phases.0.optimizer=sgd", "train.phases.0.lr=0.05"]),
    "cls-sgd-good": ("dense-digits", [*_CLS, "train.phases.0.optimizer=sgd", "train.phases.0.lr=0.1"]),
    "cls-sgd-high": ("dense-digits", [*_CLS, "train.phases.0.optimizer=sgd", "train.phases.0.lr=30.0"]),
    "cls-sgd-low": ("dense-digits", [*_CLS, "train.phases.0.optimizer=sgd", "train.phases.0.lr=1e-4"]),
    "cls-adam-dropout": ("dense-digits", [*_CLS, "model.dropout=0.5", "model.hidden=[128,64]",
                                          "train.phases.0.lr=0.001"]),
    "pinn-poisson-lbfgs": ("poisson", ["collocation.n_domain=500", "network.hidden=[20,20]",
                                       "train.phases.0.steps=1000", "train.phases.0.decay_steps=300",
                                       "train.phases.1.steps=1000", "train.eval_every=100"]),
    "vae-digits": ("vae-digits", ["train.phases.0.steps=1500", "data.max_train=600", "model.hidden=[64]",
                                  "train.eval_every=100"]),
    "vae-digits-beta": ("vae-digits", ["train.phases.0.steps=1500", "data.max_train=600", "model.hidden=[64]",
                                       "train.eval_every=100", "model.beta=30"]),
}

_KEEP_META = ("context", "term_names", "windows", "objectives")
_KEEP_PHASE = ("name", "optimizer", "steps_run", "stop_reason", "window")


def train(name: str) -> tuple:
    experiment, overrides = CURVES[name]
    cfg = load_config(experiment, [*overrides, "train.progress=false", "train.checkpoint_every=null"])
    set_precision(cfg.dtype)
    setup = get_kind(cfg.kind).setup(cfg)
    _, history = fit(setup.model, setup.data, cfg.train, loss_terms=setup.loss_terms, seed=cfg.seed,
                     key=jax.random.PRNGKey(cfg.seed), **setup.fit_kwargs)
    return history


def save(name: str, history) -> None:
    """The columns diagnose() reads, in History's CSV layout, rounded so reruns compare byte for byte."""
    names = [c for c in history.columns if c == "loss" or c.startswith(("loss/", "val/loss")) or c == "lr"]
    cols = [history.column(c) for c in names]
    lines = [",".join(["step", "phase", *names])]
    for i, (step, phase) in enumerate(zip(history.steps, history.phases, strict=True)):
        lines.append(",".join([str(int(step)), phase, *(_fmt(c[i]) for c in cols)]))
    (OUT / f"{name}.csv").write_text("\n".join(lines) + "\n")
    meta = {k: history.meta[k] for k in _KEEP_META if k in history.meta}
    meta["phases"] = [{k: p[k] for k in _KEEP_PHASE if k in p} for p in history.meta.get("phases", [])]
    (OUT / f"{name}.meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


def _fmt(v: float) -> str:
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.6g}"


def main(names: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    for name in names or list(CURVES):
        if name not in CURVES:
            raise SystemExit(f"unknown curve {name!r}; choose from {', '.join(CURVES)}")
        history = train(name)
        save(name, history)
        codes = [f.code for f in history.diagnose()]
        print(f"{name}: {len(history)} rows, findings {codes}")


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main(sys.argv[1:])
