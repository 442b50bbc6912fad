"""metrics.json as report tables: the family's own tables, identified unknowns, optimizer phases and any
other list of records, each once; what is left goes to the flat metrics table.

A metric is shown in one place only: structured values (``phases``, ``per_class_accuracy``, a dict of
records) become titled tables instead of dozens of dotted rows, a record dict that a family table already
shows (ae-compare's ``variants`` and its "Variants ..." table) is not shown again, and ``summary`` entries
repeated by the unknowns table (``unknown_nu``, ``rel_error_nu``) are left out of the flat table.
"""

from __future__ import annotations

from collections.abc import Mapping

from pinngen.report.rundir import SPECIAL_KEYS, flatten_metrics, unknown_rows

UNKNOWNS_TITLE = "Identified unknowns"
PHASES_TITLE = "Optimizer phases"
_TITLES = {"phases": PHASES_TITLE}  # a readable title where the key alone would not be one


def report_tables(metrics: Mapping) -> tuple[list[dict], dict]:
    """``(tables, flat)``: every table the report shows, and the flattened metrics not in any of them."""
    tables = [t for t in (metrics.get("tables") or []) if isinstance(t, Mapping)]
    unknowns = unknowns_table(metrics.get("unknowns"))
    if unknowns:
        tables.insert(0, unknowns)
    shown = [str(t.get("title") or "").lower() for t in tables]
    consumed = set()
    for key, value in metrics.items():
        if key in SPECIAL_KEYS or key == "summary":
            continue
        t = records_table(key, value)
        if t is None:
            continue
        consumed.add(key)
        if not any(title.startswith(t["title"].lower()) for title in shown):
            tables.append(t)
    flat = flatten_metrics({k: v for k, v in metrics.items() if k not in consumed})
    for name, *_ in unknown_rows(metrics.get("unknowns")) if unknowns else ():
        flat.pop(f"summary.unknown_{name}", None)
        flat.pop(f"summary.rel_error_{name}", None)
    return tables, flat


def split_lead(tables: list[dict], titles: tuple[str, ...]) -> tuple[list[dict], list[dict]]:
    """Tables whose title starts with one of ``titles`` (in the order of ``titles``), and the others.

    Prefixes, because family titles carry details ("Centre lines vs Ghia ... Re = 100")."""
    lead = []
    for prefix in titles:
        lead += [t for t in tables if str(t.get("title") or "").lower().startswith(prefix.lower()) and t not in lead]
    return lead, [t for t in tables if t not in lead]


def unknowns_table(unknowns) -> dict | None:
    rows = unknown_rows(unknowns)
    if not rows:
        return None
    has_truth = any(true is not None for _, _, true, _ in rows)
    columns = ["parameter", "identified"] + (["true", "relative error"] if has_truth else [])
    body = [[name, value] + ([true, rel] if has_truth else []) for name, value, true, rel in rows]
    return {"title": UNKNOWNS_TITLE, "columns": columns, "rows": body}


def records_table(key: str, value) -> dict | None:
    """A table for a list of dicts, a dict of dicts or a dict of scalars; None for anything else."""
    title = _TITLES.get(key) or key.replace("_", " ").capitalize()
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        columns = list(dict.fromkeys(k for v in value for k in v))
        return {"title": title, "columns": columns, "rows": [[v.get(c) for c in columns] for v in value]}
    if not isinstance(value, Mapping) or not value:
        return None
    if all(isinstance(v, Mapping) for v in value.values()):
        columns = list(dict.fromkeys(k for v in value.values() for k in v))
        if any(isinstance(v.get(c), Mapping) for v in value.values() for c in columns):
            return None  # deeper nesting reads better as dotted rows
        rows = [[name] + [v.get(c) for c in columns] for name, v in value.items()]
        return {"title": title, "columns": ["name", *columns], "rows": rows}
    if all(not isinstance(v, Mapping | list) for v in value.values()):
        # per_class_accuracy -> columns "class", "accuracy"
        by, _, what = key.removeprefix("per_").partition("_") if key.startswith("per_") else ("", "", "")
        columns = [by, what.replace("_", " ")] if by and what else ["name", "value"]
        return {"title": title, "columns": columns, "rows": [[k, v] for k, v in value.items()]}
    return None
