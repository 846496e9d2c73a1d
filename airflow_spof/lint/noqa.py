"""Inline suppression: ``# noqa``, ``# noqa: SPF101,SPF2`` and a file-level opt-out."""

from __future__ import annotations

import re

from airflow_spof.lint.model import Finding

_NOQA = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*))?", re.IGNORECASE
)
_SKIP_FILE = re.compile(r"^\s*#\s*airflow-spof:\s*skip-file\b", re.MULTILINE | re.IGNORECASE)

NoqaMap = dict[int, frozenset[str] | None]


def skip_file(source: str) -> bool:
    return "airflow-spof" in source.lower() and _SKIP_FILE.search(source) is not None


def parse(source: str) -> NoqaMap:
    """Line number -> codes suppressed there (None: every code)."""
    suppressions: NoqaMap = {}
    if "noqa" not in source.lower():
        return suppressions
    for number, line in enumerate(source.splitlines(), start=1):
        if "#" not in line:
            continue
        match = _NOQA.search(line)
        if match is None:
            continue
        codes = match.group("codes")
        suppressions[number] = (
            None if codes is None else frozenset(c.upper() for c in re.split(r"[\s,]+", codes) if c)
        )
    return suppressions


def suppressed(finding: Finding, suppressions: NoqaMap) -> bool:
    for line in finding.where.noqa_lines or (finding.where.line,):
        if line not in suppressions:
            continue
        codes = suppressions[line]
        if codes is None or any(finding.code.startswith(c) for c in codes):
            return True
    return False
