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
