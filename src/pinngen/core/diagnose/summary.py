"""Ordering findings and saying them in one short paragraph."""

from __future__ import annotations

from collections.abc import Iterable

from pinngen.core.findings import SEVERITIES, Finding

_RANK = {s: i for i, s in enumerate(SEVERITIES)}  # info 0, warning 1, error 2


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first; within a severity by step (whole-run findings last), then by code."""
    return sorted(
        findings,
        key=lambda f: (-_RANK[f.severity], f.step is None, f.step if f.step is not None else 0, f.code),
    )


def summarize(findings: Iterable[Finding]) -> str:
    """A short paragraph in words for the report and the CLI: counts, each message, the first thing to try.

    >>> summarize([])
    'No findings: the loss curves show nothing to remark on.'
    """
    findings = sort_findings(findings)
    if not findings:
        return "No findings: the loss curves show nothing to remark on."
    counts = []
    for severity in reversed(SEVERITIES):
        n = sum(f.severity == severity for f in findings)
        if n:
            counts.append(f"{n} {severity}{'s' if n > 1 and severity != 'info' else ''}")
    parts = [f"Diagnosis ({', '.join(counts)}):"]
    parts += [_sentence(f.message) for f in findings]
    worst = findings[0]
    if worst.severity != "info" and worst.hint:
        parts.append(f"First thing to try: {_lower_first(_sentence(worst.hint))}")
    return " ".join(parts)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text
