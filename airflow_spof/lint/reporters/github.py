"""GitHub Actions workflow commands: findings appear as annotations on the PR diff."""

from __future__ import annotations

from airflow_spof.lint.model import Finding, Severity

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: list[Finding], colour: bool) -> str:
    return "".join(
        f"::{_LEVEL[f.severity]} file={_escape_property(f.where.path)},line={f.where.line},"
        f"col={f.where.col},endLine={f.where.end_line},"
        f"title={_escape_property(f'{f.code} {f.name}')}::{_escape_data(f'{f.code} {f.message}')}\n"
        for f in findings
    )
