"""What a report leads with: the kind's one-sentence answer (``Kind.headline``) and its lead tables.

The kind is looked up from ``metrics["kind"]``; a run of a kind that is not installed, or a headline that
fails on an old metrics.json, falls back to a generic sentence: a report must never fail for its lead.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from pinngen.report.rundir import format_value

log = logging.getLogger(__name__)


def _kind(name):
    if not name:
        return None
    try:
        from pinngen.registry import get_kind

        return get_kind(str(name))
    except (ValueError, ImportError, TypeError) as err:
        log.info("no kind %r for the report's headline (%s)", name, err)
        return None


def headline(metrics: Mapping) -> str:
    """The sentence the report opens with."""
    kind = _kind(metrics.get("kind"))
    if kind is not None and kind.headline is not None:
        try:
            text = kind.headline(dict(metrics))
            if isinstance(text, str) and text.strip():
                return text.strip()
        except Exception as err:  # an old or partial metrics.json: fall back rather than fail the report
            log.warning("headline of kind %r failed (%s: %s); using the generic one", kind.name,
                        type(err).__name__, err)
    return generic_headline(metrics)


def lead_titles(metrics: Mapping) -> tuple[str, ...]:
    kind = _kind(metrics.get("kind"))
    return tuple(kind.lead_tables) if kind is not None else ()


def generic_headline(metrics: Mapping) -> str:
    summary = metrics.get("summary") if isinstance(metrics.get("summary"), Mapping) else {}
    loss, steps = summary.get("final_loss"), summary.get("steps")
    if isinstance(loss, int | float) and not isinstance(loss, bool):
        after = f" after {steps} steps" if isinstance(steps, int) else ""
        return f"Final training loss {format_value(loss)}{after}."
    return "No headline metric was recorded for this run; the metrics are below."


# ---------------------------------------------------------------------------------------------- wording
def percent(fraction: float) -> str:
    """0.0123 -> '1.2 %'; small values keep two significant digits."""
    p = 100.0 * float(fraction)
    return f"{p:.2g} %" if abs(p) < 1 else f"{p:.1f} %"


def number(value) -> str:
    return format_value(float(value)) if isinstance(value, int | float) else str(value)


def finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
