"""Numbers and context into words: the phrases that findings are written with."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from pinngen.core.diagnose.curves import Curve

# Activations whose derivative jumps somewhere: the loss landscape has kinks, so the loss can jump.
DISCONTINUOUS_DERIVATIVE = frozenset(
    {"relu", "relu6", "leakyrelu", "prelu", "rrelu", "selu", "hardtanh", "hardsigmoid", "hardswish", "abs"}
)

# A usual starting learning rate per optimizer ("the right learning rate depends on the optimizer").
TYPICAL_LR = {
    "adam": 1e-3,
    "adamw": 1e-3,
    "nadam": 1e-3,
    "radam": 1e-3,
    "rmsprop": 1e-3,
    "sgd": 1e-2,
    "momentum": 1e-2,
    "adagrad": 1e-2,
    "adadelta": 1.0,
    "lbfgs": 1.0,
}


def num(v: float) -> str:
    """A loss value in three significant digits."""
    if not math.isfinite(v):
        return str(v)
    return f"{v:.3g}" if 1e-3 <= abs(v) < 1e4 or v == 0 else f"{v:.2e}"


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def percent(r: float) -> str:
    r = abs(r) * 100
    return f"{r:.1f}%" if r < 10 else f"{r:.0f}%"


def relative_change(curve: Curve, dy: float) -> float:
    """A change in ``y`` as a fraction of the level (log space) or of the curve's spread (linear)."""
    return 10.0**dy - 1.0 if curve.log else dy


def change_text(curve: Curve, dy: float) -> str:
    """'fell 12%', 'rose 3.4-fold', 'fell by 0.21' for a change ``dy`` in the curve's ``y``."""
    if not curve.log:
        delta = dy * curve.scale
        return f"{'fell' if delta < 0 else 'rose'} by {num(abs(delta))}"
    ratio = 10.0**dy
    if ratio <= 1:
        return f"fell {percent(1 - ratio)}" if ratio >= 0.1 else f"fell {num(1 / ratio)}-fold"
    return f"rose {percent(ratio - 1)}" if ratio <= 10 else f"rose {num(ratio)}-fold"


def series_label(name: str) -> str:
    if name == "loss":
        return "training loss"
    if name == "val/loss":
        return "validation loss"
    if name.startswith("loss/"):
        return f"loss term '{name[5:]}'"
    return f"'{name}'"


def window_text(fraction: float) -> str:
    return f"the last {percent(fraction)} of steps"


def _norm(name: Any) -> str:
    return str(name).lower().replace("_", "").replace("-", "").replace(" ", "")


def normalise_context(context: Mapping[str, Any] | None, history=None) -> dict[str, Any]:
    """The context over ``history.meta['context']``, with ``activations`` a list of strings and
    ``optimizer`` lower-case (default: the last phase's name when it names a known optimizer)."""
    if context is not None and not isinstance(context, Mapping):
        raise ValueError(f"context={context!r} must be a dict or None")
    stored = (getattr(history, "meta", None) or {}).get("context") or {}
    ctx = {**(stored if isinstance(stored, Mapping) else {}), **(context or {})}
    acts = ctx.get("activations") or []
    if isinstance(acts, str):
        acts = [acts]
    ctx["activations"] = [str(a) for a in acts]
    if ctx.get("optimizer") is None and history is not None and history.phases:
        last = history.phases[-1]
        if _norm(last) in TYPICAL_LR:
            ctx["optimizer"] = last
    if ctx.get("optimizer") is not None:
        ctx["optimizer"] = str(ctx["optimizer"]).lower()
    return ctx


def kinked_activations(ctx: Mapping[str, Any]) -> list[str]:
    """The context's activations whose derivative is discontinuous (ReLU and relatives)."""
    return [a for a in ctx.get("activations", []) if _norm(a) in DISCONTINUOUS_DERIVATIVE]


def regularised(ctx: Mapping[str, Any]) -> bool:
    dropout = ctx.get("dropout") or 0.0
    try:
        dropout = float(dropout)
    except (TypeError, ValueError):
        dropout = 0.0
    return bool(ctx.get("regularised")) or dropout > 0


def final_lr(ctx: Mapping[str, Any], history) -> float | None:
    """The learning rate from the context, else the last one recorded in the history."""
    lr = ctx.get("lr")
    if lr is None and "lr" in history:
        values = np.asarray(history.column("lr"))
        values = values[np.isfinite(values)]
        lr = float(values[-1]) if values.size else None
    try:
        return None if lr is None else float(lr)
    except (TypeError, ValueError):
        return None


def lr_advice(ctx: Mapping[str, Any], history) -> str:
    """'the learning rate 0.01 may be too high for adam, where about 0.001 is a usual start'."""
    lr = final_lr(ctx, history)
    opt = ctx.get("optimizer")
    text = "the learning rate" + (f" {num(lr)}" if lr is not None else "") + " may be too high"
    if opt:
        text += f" for {opt}"
        typical = TYPICAL_LR.get(_norm(opt))
        if typical is not None:
            text += f", where about {num(typical)} is a usual start"
    return text


def lr_note(ctx: Mapping[str, Any], history) -> str:
    """What is known about the learning rate, as a bracket: ' (0.1 may be too high for adam, where about
    0.001 is a usual start)', ' (for adam about 0.001 is a usual start)', or ''."""
    lr = final_lr(ctx, history)
    opt = ctx.get("optimizer")
    typical = TYPICAL_LR.get(_norm(opt)) if opt else None
    if lr is not None:
        return f" ({lr_advice(ctx, history).removeprefix('the learning rate ')})"
    if typical is not None:
        return f" (for {opt} about {num(typical)} is a usual start)"
    return ""


def dy_of(curve: Curve, rel: float) -> float:
    """The change in ``y`` that a relative change ``rel`` (e.g. +0.1 for 10% up) amounts to."""
    return float(np.log10(1.0 + rel)) if curve.log else float(rel)
