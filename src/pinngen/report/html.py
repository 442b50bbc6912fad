"""One self-contained HTML page per run: inline CSS, figures as base64 data URIs, no scripts, no links out.

The page leads with the answer: the kind's headline sentence and lead tables (:mod:`pinngen.report.lead`),
then the diagnosis of the loss curves, then the other metrics, tables, notes, figures and the config.
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

from pinngen.core.findings import Finding
from pinngen.core.io import atomic_write_text
from pinngen.report import html_parts as parts
from pinngen.report.lead import headline, lead_titles
from pinngen.report.rundir import RunData, format_value, load_run
from pinngen.report.tables import report_tables, split_lead

log = logging.getLogger(__name__)

STATUS = {  # worst severity -> (css class, headline)
    "error": ("error", "Needs attention"),
    "warning": ("warning", "Worth a look"),
    "info": ("ok", "Looks healthy"),
    None: ("none", "No diagnosis recorded"),
}


def write_report(run_dir: str | os.PathLike, *, plot_missing: bool = True) -> Path:
    """Write ``run_dir/report.html`` from the run folder and return its path.

    With ``plot_missing`` and a ``history.csv`` but no ``figures/loss*.png``, the loss curves are drawn
    first (into ``figures/loss_curves.png``) so every report shows them. Raises FileNotFoundError naming
    the path if the folder or its ``metrics.json`` is missing; other missing files are skipped.
    """
    run = load_run(run_dir)
    if plot_missing:
        _add_loss_figure(run)
    out = run.path / "report.html"
    atomic_write_text(out, render_html(run))
    return out


def render_html(run: RunData) -> str:
    """The page for a loaded run, as a string."""
    tables, flat = report_tables(run.metrics)
    lead, rest = split_lead(tables, lead_titles(run.metrics))
    sections = [
        _answer(headline(run.metrics), lead),
        _diagnosis(run),
        _metrics(flat),
        parts.section("tables", "Tables", "".join(parts.table(t) for t in rest)) if rest else "",
        _notes(run.metrics.get("notes")),
        _figures(run),
        _config(run.config_text),
    ]
    e = html.escape
    kind = f'<span class="kind">{e(run.kind)}</span>' if run.kind else ""
    header = (f'<div class="eyebrow">pinngen run report</div>\n<h1>{e(run.experiment)}</h1>\n'
              f'<div class="meta">{kind}<span>{e(run.date)}</span><span class="path">{e(str(run.path))}</span></div>')
    # sections render first: a figure that cannot be read adds to run.problems
    body = [s for s in sections if s]
    problems = "".join(f"<li>{e(p)}</li>" for p in run.problems)
    problems = f'<ul class="problems">{problems}</ul>' if problems else ""
    return parts.page(f"{run.experiment} report", header, body, _NAV, footer=problems)


_NAV = (
    ("result", "Result"),
    ("diagnosis", "Diagnosis"),
    ("metrics", "Metrics"),
    ("tables", "Tables"),
    ("notes", "Notes"),
    ("figures", "Figures"),
    ("config", "Config"),
)


# ---------------------------------------------------------------------------------------------- verdict
def _worst(findings: list[Finding]) -> str | None:
    for severity in ("error", "warning", "info"):
        if any(f.severity == severity for f in findings):
            return severity
    return None


def _diagnosis_text(findings: list[Finding]) -> str:
    """Words about the findings: ``pinngen.core.diagnose.summarize`` when available, else their messages."""
    if not findings:
        return ""
    try:
        from pinngen.core.diagnose import summarize
    except ImportError:
        summarize = None
    if summarize is not None:
        try:
            text = summarize(findings)
            if isinstance(text, str) and text.strip():
                return text.strip()
        except Exception as err:  # a report must not fail because of an optional helper
            log.warning("diagnose.summarize failed (%s); listing finding messages instead", err)
    counts = [(s, sum(f.severity == s for f in findings)) for s in ("error", "warning", "info")]
    tally = ", ".join(f"{n} {s}{'s' if n > 1 and s != 'info' else ''}" for s, n in counts if n)
    serious = [f for f in findings if f.severity != "info"] or findings
    text = f"Diagnosis ({tally}): " + " ".join(f.message.strip() for f in serious[:3])
    return text + (f" ({len(serious) - 3} more below.)" if len(serious) > 3 else "")


def _training_facts(run: RunData) -> str:
    h = run.history
    if h is None or len(h) == 0:
        return ""
    phases = list(dict.fromkeys(p for p in h.phases if p))
    text = f"Trained to step {int(h.steps[-1])}"
    text += f" ({' → '.join(phases)})" if phases else ""
    if "loss" in h:
        text += f"; final training loss {format_value(h.last('loss'))}"
    if "val/loss" in h:
        _, v = h.series("val/loss")
        finite = [x for x in v.tolist() if x == x and abs(x) != float("inf")]
        if finite:
            text += f", best validation loss {format_value(min(finite))}"
    return text + "."


def verdict(run: RunData) -> str:
    """The coloured box: worst severity, training facts and the findings in words."""
    css, status = STATUS[_worst(run.findings)]
    texts = [_training_facts(run), _diagnosis_text(run.findings)]
    body = " ".join(html.escape(p) for p in texts if p) or "No training history or findings were recorded."
    return f'<div class="verdict verdict-{css}"><div class="headline">{status}</div><p>{body}</p></div>'


# ---------------------------------------------------------------------------------------------- sections
def _answer(text: str, lead: list[dict]) -> str:
    body = f'<p class="answer"><span class="label">Answer</span>{html.escape(text)}</p>'
    return parts.section("result", "Result", body + "".join(parts.table(t) for t in lead))


def _diagnosis(run: RunData) -> str:
    findings = parts.findings_list(run.findings) if run.findings else ""
    return parts.section("diagnosis", "Diagnosis", verdict(run) + findings)


def _metrics(flat: dict) -> str:
    if not flat:
        return ""
    rows = "".join(f'<tr><td class="key">{html.escape(k)}</td>{parts.cell(v)}</tr>' for k, v in flat.items())
    head = "<tr><th>metric</th><th>value</th></tr>"
    table = f'<table class="metrics"><thead>{head}</thead><tbody>{rows}</tbody></table>'
    return parts.section("metrics", "Metrics", table)


def _notes(notes) -> str:
    if not isinstance(notes, list) or not notes:
        return ""
    items = "".join(f"<li>{html.escape(str(n))}</li>" for n in notes)
    return parts.section("notes", "Notes", f'<ul class="notes">{items}</ul>')


def _figures(run: RunData) -> str:
    shown = []
    for fig in run.figures:
        try:
            shown.append(parts.figure(fig, run.caption(fig)))
        except OSError as err:
            run.problems.append(f"figure {fig.name} could not be read: {err}")
    return parts.section("figures", "Figures", "".join(shown)) if shown else ""


def _config(text: str | None) -> str:
    if not text or not text.strip():
        return ""
    return parts.section("config", "Configuration", f"<pre>{html.escape(text.rstrip())}</pre>")


def _add_loss_figure(run: RunData) -> None:
    if run.history is None or "loss" not in run.history:
        return
    if any(p.name.lower().startswith("loss") for p in run.figures):
        return
    from pinngen.report.plots import plot_loss_curves  # matplotlib only when needed

    path = plot_loss_curves(run.history, run.findings, run.path / "figures" / "loss_curves.png",
                            title=f"{run.experiment}: training loss")
    run.figures.insert(0, path)
    run.captions.setdefault(
        path.name,
        "Training loss (total and per term), validation loss, optimizer phases and diagnosed events; "
        "learning rate and gradient norm below.",
    )
