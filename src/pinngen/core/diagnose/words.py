"""Numbers and context into words: the phrases that findings are written with."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from pinngen.core.diagnose.curves import Curve

if TYPE_CHECKING:
    from pinngen.core.diagnose.context import DiagnoseContext

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
    "bfgs": 1.0,
    "ssbfgs": 1.0,
    "ssbroyden": 1.0,
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


def norm_name(name: Any) -> str:
    """An optimizer or activation name compared loosely: lower case, no '_', '-' or spaces."""
    return str(name).lower().replace("_", "").replace("-", "").replace(" ", "")


def kinked_activations(ctx: DiagnoseContext) -> list[str]:
    """The context's activations whose derivative is discontinuous (ReLU and relatives)."""
    return [a for a in ctx.activations if norm_name(a) in DISCONTINUOUS_DERIVATIVE]


def final_lr(ctx: DiagnoseContext, history) -> float | None:
    """The learning rate from the context, else the last one recorded in the history."""
    if ctx.lr is not None:
        return ctx.lr
    if "lr" not in history:
        return None
    values = np.asarray(history.column("lr"))
    values = values[np.isfinite(values)]
    return float(values[-1]) if values.size else None


def lr_advice(ctx: DiagnoseContext, history) -> str:
    """'the learning rate 0.01 may be too high for adam, where about 0.001 is a usual start'."""
    lr = final_lr(ctx, history)
    opt = ctx.optimizer
    text = "the learning rate" + (f" {num(lr)}" if lr is not None else "") + " may be too high"
    if opt:
        text += f" for {opt}"
        typical = TYPICAL_LR.get(norm_name(opt))
        if typical is not None:
            text += f", where about {num(typical)} is a usual start"
    return text


def lr_note(ctx: DiagnoseContext, history) -> str:
    """What is known about the learning rate, as a bracket: ' (0.1 may be too high for adam, where about
    0.001 is a usual start)', ' (for adam about 0.001 is a usual start)', or ''."""
    lr = final_lr(ctx, history)
    opt = ctx.optimizer
    typical = TYPICAL_LR.get(norm_name(opt)) if opt else None
    if lr is not None:
        return f" ({lr_advice(ctx, history).removeprefix('the learning rate ')})"
    if typical is not None:
        return f" (for {opt} about {num(typical)} is a usual start)"
    return ""


def dy_of(curve: Curve, rel: float) -> float:
    """The change in ``y`` that a relative change ``rel`` (e.g. +0.1 for 10% up) amounts to."""
    return float(np.log10(1.0 + rel)) if curve.log else float(rel)
