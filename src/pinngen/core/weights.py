"""Loss-weight schedules: a term's weight as a traced function of the global step.

A schedule multiplies the term's base weight (``fit(weights=...)``, adaptive updates included) at every
step inside the compiled chunk, so a warm-up moves every step, not once per chunk. Examples: the VAE's
KL warm-up (Bowman et al. 2016, "Generating sentences from a continuous space", Sec. 3.1: the KL weight
ramps from 0 to 1), cyclical annealing (Fu et al. 2019, "Cyclical annealing schedule", eq. 6), or a
PINN boundary term switched on after a start-up phase.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Literal

import jax.numpy as jnp
from pydantic import BaseModel, ConfigDict, Field, model_validator


class WeightSchedule(BaseModel):
    """Multiplier of a term's weight: ``start_value`` before step ``start``, moving to ``end_value`` over
    ``steps`` steps (``linear``, ``cosine``, or at once: ``step``); ``cyclical`` repeats a linear ramp over
    ``ramp_fraction`` of every ``period`` steps, then holds ``end_value`` for the rest of the period."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["linear", "cosine", "step", "cyclical"] = "linear"
    start_value: float = 0.0
    end_value: float = 1.0
    start: int = Field(0, ge=0, description="global step where the change begins")
    steps: int = Field(1000, ge=1, description="length of the ramp (linear, cosine) or the delay (step)")
    period: int | None = Field(None, ge=2, description="cyclical: steps per cycle")
    ramp_fraction: float = Field(0.5, gt=0.0, le=1.0, description="cyclical: share of a cycle spent ramping")

    @model_validator(mode="after")
    def _period(self):
        if self.kind == "cyclical" and self.period is None:
            raise ValueError("a cyclical weight schedule needs period (steps per cycle)")
        return self


def multiplier(spec: WeightSchedule) -> Callable:
    """``step (int) -> multiplier``, traceable."""
    a, b = spec.start_value, spec.end_value

    def f(step):
        t = jnp.asarray(step, jnp.float32) - spec.start
        if spec.kind == "cyclical":
            ramp = spec.period * spec.ramp_fraction
            frac = jnp.clip(jnp.mod(jnp.maximum(t, 0.0), spec.period) / ramp, 0.0, 1.0)
            return jnp.where(t < 0, a, a + (b - a) * frac)
        frac = jnp.clip(t / spec.steps, 0.0, 1.0)
        if spec.kind == "step":
            return jnp.where(t >= spec.steps, b, a)
        if spec.kind == "cosine":
            frac = 0.5 * (1.0 - jnp.cos(math.pi * frac))
        return a + (b - a) * frac

    return f


def schedule_fns(schedules: Mapping | None, names) -> dict[str, Callable]:
    """Validate ``{term: WeightSchedule | dict | callable}`` against the loss terms; return callables."""
    out = {}
    for name, spec in (schedules or {}).items():
        if name not in names:
            raise ValueError(f"weight schedule for {name!r} names no loss term; the terms are {list(names)}")
        if callable(spec):
            out[name] = spec
        else:
            out[name] = multiplier(spec if isinstance(spec, WeightSchedule) else WeightSchedule.model_validate(spec))
    return out


def scheduled(weights: Mapping, fns: Mapping[str, Callable], step) -> dict:
    """The weights at ``step``: the base weight times the term's schedule (if any)."""
    return {n: (w * jnp.asarray(fns[n](step), w.dtype) if n in fns else w) for n, w in weights.items()}
