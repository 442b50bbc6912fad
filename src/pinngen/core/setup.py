"""What an experiment kind hands to the shared run machinery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import equinox as eqx


@dataclass
class Setup:
    """Everything ``fit`` needs, plus what evaluation and reloading need.

    ``spec`` is JSON-serialisable and enough for the kind's ``template(spec)`` to rebuild the model's
    structure (weights then come from the checkpoint). ``fit_kwargs`` are passed to
    :func:`pinngen.core.train.fit` (weights, val_data, metrics_fn, trace_fn, refresh, weight_update, context).
    ``findings`` are pre-training warnings (e.g. from the advisor).
    """

    model: eqx.Module
    data: Any
    loss_terms: Any
    spec: dict
    fit_kwargs: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)
    extras: dict = field(default_factory=dict)
    #: Optional replacement for the single ``fit`` call (e.g. time marching: one fit per window):
    #: ``train(key=, checkpoint_dir=, resume=) -> (model, history)``.
    train: Callable | None = None

    def __post_init__(self):
        bad = sorted(set(self.fit_kwargs) - FIT_KWARGS)
        if bad:
            raise TypeError(f"Setup.fit_kwargs has {bad}, which fit does not take; it takes {sorted(FIT_KWARGS)}")


#: What a kind may pass to :func:`pinngen.core.train.fit` besides model, data, config, loss, seed and resume.
FIT_KWARGS = frozenset({"weights", "weight_schedules", "val_data", "metrics_fn", "trace_fn", "refresh",
                        "weight_update", "callbacks", "context"})
