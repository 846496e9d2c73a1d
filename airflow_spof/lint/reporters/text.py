"""Human output: ``path:line:col: CODE message``, coloured only on a terminal."""

from __future__ import annotations

from collections import Counter

from airflow_spof.lint.model import Finding, Severity

_COLOURS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_BOLD, _RESET = "\033[1m", "\033[0m"


def text_line(f: Finding, colour: bool) -> str:
    """One finding's line."""
    where = f"{f.where.path}:{f.where.line}:{f.where.col}:"
    if colour:
        return f"{_BOLD}{where}{_RESET} {_COLOURS[f.severity]}{f.code}{_RESET} {f.message}"
    return f"{where} {f.code} {f.message}"


def summary(count: int) -> str:
    """The last line of a report with findings."""
    return f"Found {count} finding{'s' if count != 1 else ''}."


def render_text(findings: list[Finding], colour: bool) -> str:
    lines = [text_line(f, colour) for f in findings]
    if findings:
        lines.append(summary(len(findings)))
    return "\n".join(lines) + ("\n" if lines else "")


def render_statistics(findings: list[Finding], colour: bool) -> str:
    """Counts per rule, most frequent first (like ``ruff --statistics``)."""
    counts = Counter((f.code, f.name, f.severity) for f in findings)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    return "".join(
        f"{count:>5}  {code}  {name:<26} {severity.label}\n"
        for (code, name, severity), count in rows
    )
