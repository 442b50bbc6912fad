"""``pinngen compare``: several run folders side by side on one self-contained HTML page.

The page shows each run's headline, the summary metrics in one table (rows = metrics, columns = runs,
the best value marked where the direction is known), the loss curves overlaid, the config values that
differ, and each run's findings. Same style as the run report (:mod:`pinngen.report.html`).
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from pinngen.core.io import atomic_write_text
from pinngen.report import html_parts as parts
from pinngen.report.html import verdict
from pinngen.report.lead import headline
from pinngen.report.plots_compare import objective_columns, plot_compare_losses
from pinngen.report.rundir import RunData, format_value, key_metrics, load_run

e = html.escape

# Name tokens that say which way a metric is better. Baselines are reference numbers, not results.
LOWER_IS_BETTER = {"loss", "error", "mse", "rmse", "mae", "l2", "bpd", "nll", "nats", "entropy", "residual",
                   "elbo", "bce"}
HIGHER_IS_BETTER = {"accuracy", "r2", "auc", "f1", "precision", "recall"}
NO_DIRECTION = {"baseline", "initial"}


def compare(run_dirs: Sequence[str | os.PathLike], out: str | os.PathLike | None = None) -> Path:
    """Write ``OUT/compare.html`` (and ``OUT/loss_curves.png``) comparing the runs; return the page's path.

    ``out`` defaults to ``compare/`` next to the runs (in their common parent folder). Raises ValueError
    for fewer than two runs, a folder given twice or an ``out`` that cannot be written, and
    FileNotFoundError for a folder that is not a run folder (no metrics.json); each message is one line.
    """
    dirs = [Path(d) for d in run_dirs]
    if len(dirs) < 2:
        raise ValueError(f"compare needs at least 2 run folders, got {len(dirs)}")
    seen: dict[Path, Path] = {}
    for d in dirs:
        if d.resolve() in seen:
            raise ValueError(f"compare: {d} is given twice (as {seen[d.resolve()]})")
        seen[d.resolve()] = d
    runs = [load_run(d) for d in dirs]
    out = Path(out) if out is not None else Path(os.path.commonpath([d.resolve().parent for d in dirs])) / "compare"
    labels = run_labels(runs)
    page = out / "compare.html"
    try:
        out.mkdir(parents=True, exist_ok=True)
        figure = plot_compare_losses(list(zip(labels, (r.history for r in runs), strict=True)),
                                     out / "loss_curves.png")
        atomic_write_text(page, render_compare(runs, labels, figure))
    except OSError as err:
        raise ValueError(f"cannot write the comparison to {out}: {err.strerror or err}") from None
    return page


def run_labels(runs: Sequence[RunData]) -> list[str]:
    """Column names: the folder names, or, where two are the same, the paths below the common folder."""
    labels = [r.path.name or str(r.path) for r in runs]
    if len(set(labels)) == len(labels):
        return labels
    paths = [r.path.resolve() for r in runs]
    common = Path(os.path.commonpath(paths))
    return [str(p.relative_to(common)) for p in paths]


def render_compare(runs: Sequence[RunData], labels: Sequence[str], figure: Path | None) -> str:
    title = f"{len(runs)} runs: {', '.join(labels)}"
    kinds = sorted({r.kind for r in runs if r.kind})
    meta = "".join(f'<span class="kind">{e(k)}</span>' for k in kinds)
    header = (f'<div class="eyebrow">pinngen comparison</div>\n<h1>{e(title)}</h1>\n'
              f'<div class="meta">{meta}<span>{" &middot; ".join(e(str(r.path)) for r in runs)}</span></div>')
    curves = ""
    if figure is not None:
        caption = "Training loss (solid) and validation loss (dashed) of each run."
        if any(r.history is not None and objective_columns(r.history) for r in runs):
            caption += (" A run with several objectives shows each objective's loss (dotted, dash-dotted) "
                        "instead of their total.")
        curves = parts.section("curves", "Loss curves", parts.figure(figure, caption))
    sections = [_headlines(runs, labels), _metrics(runs, labels), curves, _config_diff(runs, labels),
                _findings(runs, labels)]
    nav = (("headlines", "Headlines"), ("metrics", "Metrics"), ("curves", "Loss curves"),
           ("config", "Config differences"), ("findings", "Findings"))
    return parts.page(f"compare {', '.join(labels)}", header, sections, nav)


# ---------------------------------------------------------------------------------------------- sections
def _headlines(runs, labels) -> str:
    items = "".join(f"<li><strong>{e(label)}</strong> ({e(r.experiment)}): {e(headline(r.metrics))}</li>"
                    for r, label in zip(runs, labels, strict=True))
    return parts.section("headlines", "Headlines", f'<ul class="headlines">{items}</ul>')


def direction(name: str) -> int:
    """-1 if lower is better, +1 if higher is better, 0 if unknown (from the metric's name)."""
    tokens = set(re.split(r"[^a-z0-9]+", name.lower()))
    if tokens & NO_DIRECTION:
        return 0
    if tokens & HIGHER_IS_BETTER:
        return 1
    return -1 if tokens & LOWER_IS_BETTER else 0


def best_columns(values: Sequence, sign: int, kinds: Sequence[str] | None = None) -> set[int]:
    """Indices of the best finite numbers (ties all marked); none if fewer than two numbers, no direction,
    or numbers from runs of different kinds (a dense MSE loss and a PINN residual loss are not comparable)."""
    numbers = {i: float(v) for i, v in enumerate(values) if parts.is_number(v) and v == v and abs(v) != float("inf")}
    if sign == 0 or len(numbers) < 2 or len(set(numbers.values())) < 2:
        return set()
    if kinds is not None and len({kinds[i] for i in numbers}) > 1:
        return set()
    best = max(numbers.values()) if sign > 0 else min(numbers.values())
    return {i for i, v in numbers.items() if v == best}


def _metrics(runs, labels) -> str:
    tables = [key_metrics(r.metrics) for r in runs]
    names = list(dict.fromkeys(k for t in tables for k in t))
    if not names:
        return ""
    rows = []
    for name in names:
        values = [t.get(name) for t in tables]
        sign = direction(name)
        best = best_columns(values, sign, [r.kind for r in runs])
        arrow = {1: "higher &uarr;", -1: "lower &darr;", 0: ""}[sign]
        cells = "".join(parts.cell(v, css="best" if i in best else "", suffix=" \u2605" if i in best else "")
                        for i, v in enumerate(values))
        rows.append(f'<tr><td class="key">{e(name)}</td><th class="dir">{arrow}</th>{cells}</tr>')
    head = "<tr><th>metric</th><th>better</th>" + "".join(f"<th>{e(label)}</th>" for label in labels) + "</tr>"
    legend = '<p class="legend-line">&#9733; best value where the metric says which way is better.</p>'
    table = f'<div class="table-wrap"><table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'
    return parts.section("metrics", "Summary metrics", legend + table)


def flat_config(value, prefix: str = "") -> dict:
    """Nested config -> ``{"train.phases.0.lr": 0.001}``; lists of scalars stay one value."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            out.update(flat_config(v, f"{prefix}{k}."))
        return out
    if isinstance(value, list) and any(isinstance(v, Mapping | list) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(flat_config(v, f"{prefix}{i}."))
        return out
    return {prefix.rstrip("."): value}


def config_differences(runs: Sequence[RunData]) -> dict[str, list]:
    """Config keys whose values differ between the runs (a key a run lacks reads as null, i.e. not set)."""
    flats = [flat_config(yaml.safe_load(r.config_text) or {}) if r.config_text else {} for r in runs]
    keys = list(dict.fromkeys(k for f in flats for k in f))
    diffs = {}
    for key in keys:
        values = [f.get(key) for f in flats]
        if any(v != values[0] for v in values[1:]):
            diffs[key] = values
    return diffs


def _config_diff(runs, labels) -> str:
    try:
        diffs = config_differences(runs)
    except yaml.YAMLError as err:
        return parts.section("config", "Config differences", f"<p>A config.yaml could not be read: {e(str(err))}</p>")
    if not diffs:
        return parts.section("config", "Config differences", "<p>The runs' configs are identical.</p>")
    head = "<tr><th>config key</th>" + "".join(f"<th>{e(label)}</th>" for label in labels) + "</tr>"
    rows = "".join(f'<tr><td class="key">{e(k)}</td>' + "".join(_config_cell(v) for v in values) + "</tr>"
                   for k, values in diffs.items())
    table = f'<div class="table-wrap"><table><thead>{head}</thead><tbody>{rows}</tbody></table></div>'
    return parts.section("config", "Config differences", table)


def _config_cell(value) -> str:
    # configs hold lists and strings as given: show them as YAML would, not as Python text
    if isinstance(value, list):
        return f"<td>[{e(', '.join(format_value(v) for v in value))}]</td>"
    return parts.cell(value)


def _findings(runs, labels) -> str:
    blocks = []
    for r, label in zip(runs, labels, strict=True):
        listed = parts.findings_list(r.findings) if r.findings else ""
        blocks.append(f"<h3>{e(label)}</h3>{verdict(r)}{listed}")
    return parts.section("findings", "Findings", "".join(blocks))
