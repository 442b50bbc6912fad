"""Plain-text summary of a run folder, for ``pinngen report`` / ``pinngen diagnose`` to print."""

from __future__ import annotations

import os

from pinngen.report.lead import headline
from pinngen.report.rundir import RunData, format_value, key_metrics, load_run, unknown_rows


def summarize_run(run_dir: str | os.PathLike) -> str:
    """The run's answer (its headline), key metrics, identified unknowns and findings, one per line.

    Raises FileNotFoundError naming the path if the run folder or its metrics.json is missing.
    """
    run = load_run(run_dir)
    kind = f" ({run.kind})" if run.kind else ""
    lines = [f"{run.experiment}{kind}  [{run.path}]", f"  answer: {headline(run.metrics)}"]
    lines += _training_lines(run)
    for name, value in key_metrics(run.metrics).items():
        lines.append(f"  {name}: {format_value(value)}")
    for name, value, true, rel in unknown_rows(run.metrics.get("unknowns")):
        extra = []
        if true is not None:
            extra.append(f"true {format_value(true)}")
        if rel is not None:
            extra.append(f"rel. error {format_value(rel)}")
        suffix = f" ({', '.join(extra)})" if extra else ""
        lines.append(f"  unknown {name}: {format_value(value)}{suffix}")
    if run.findings:
        lines.append("findings:")
        lines += [f"  {finding}" for finding in run.findings]
    else:
        lines.append("findings: none recorded")
    lines += [f"note: {problem}" for problem in run.problems]
    return "\n".join(lines)


def _training_lines(run: RunData) -> list[str]:
    history = run.history
    if history is None or len(history) == 0:
        return []
    phases = list(dict.fromkeys(p for p in history.phases if p))
    phase_text = f" ({' -> '.join(phases)})" if phases else ""
    line = f"  training: last step {int(history.steps[-1])}{phase_text}"
    if "loss" in history:
        line += f", final loss {format_value(history.last('loss'))}"
    return [line]
