"""Python entry points that mirror the CLI commands that are not plain run/load."""

from __future__ import annotations

from pathlib import Path

import jax

from pinngen.config import load_config
from pinngen.core.io import atomic_write_json
from pinngen.core.lr_find import LRFindResult, lr_find
from pinngen.core.optim import Phase, is_quasi_newton
from pinngen.registry import get_kind
from pinngen.runs import precision


def lr_find_experiment(experiment, *, overrides=(), out=None, lr_min=1e-6, lr_max=1.0, steps=200,
                       optimizer=None) -> tuple[LRFindResult, Path]:
    """Run the learning-rate range test on an experiment's model, data, loss weights and weight schedules,
    through the training loop's own step; write plot and JSON."""
    cfg = load_config(experiment, overrides)
    with precision(cfg.dtype):
        return _lr_find(cfg, out, lr_min, lr_max, steps, optimizer)


def _lr_find(cfg, out, lr_min, lr_max, steps, optimizer):
    from pinngen.report.plots import plot_lr_find

    setup = get_kind(cfg.kind).setup(cfg)
    first = cfg.train.phases[0]
    if optimizer is not None:
        phase = Phase(optimizer=optimizer, clip_norm=first.clip_norm, weight_decay=first.weight_decay)
    elif is_quasi_newton(first.optimizer) or first.groups:
        phase = Phase(optimizer="adam")
    else:
        phase = first
    opt = phase.optimizer
    res = lr_find(setup.model, setup.data, setup.loss_terms, phase=phase, lr_min=lr_min, lr_max=lr_max,
                  steps=steps, batch_size=first.batch_size, seed=cfg.seed,
                  weights=setup.fit_kwargs.get("weights"), weight_schedules=cfg.train.weight_schedules,
                  batching=cfg.train.batching)
    out = Path(out) if out else Path("runs") / f"{cfg.name}-lr-find"
    out.mkdir(parents=True, exist_ok=True)
    plot_lr_find(res.lrs, res.losses, res.suggestion, out / "lr_find.png")
    atomic_write_json(out / "lr_find.json", dict(optimizer=opt, suggestion=res.suggestion,
                                                 lrs=res.lrs.tolist(), losses=res.losses.tolist(),
                                                 stopped_at=res.stopped_at, backend=jax.default_backend()))
    return res, out
