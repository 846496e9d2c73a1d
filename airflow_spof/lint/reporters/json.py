"""Machine output: a JSON list of findings with every field, one finding per line.

One line per finding keeps the report diff-friendly. Each line is assembled from
pieces escaped by ``json``'s C string encoder; the fields that repeat (rule, path,
fix) are escaped once per distinct value. The text is exactly what
``json.JSONEncoder().encode(finding.to_dict())`` gives (a test compares them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from airflow_spof.lint.model import Finding

_ENCODER = json.JSONEncoder()
_quote: Callable[[str], str] = getattr(json.encoder, "c_encode_basestring_ascii", None) or (
    json.encoder.encode_basestring_ascii
)


def _string(value: Any) -> str:
    """A JSON string, or ``null``; anything else goes through the full encoder."""
    if value is None:
        return "null"
    if type(value) is str:
        return _quote(value)
    return _ENCODER.encode(value)


def _integer(value: Any) -> str:
    return int.__repr__(value) if type(value) is int else _ENCODER.encode(value)


class JsonLines:
    """One finding per call, as ``render_json`` writes it; repeated fields escaped once."""

    def __init__(self) -> None:
        self.heads: dict[tuple[str, str, str], str] = {}
        self.paths: dict[str, str] = {}
        self.fixes: dict[str, str] = {}

    def line(self, finding: Finding) -> str:
        key = (finding.code, finding.name, finding.severity.label)
        head = self.heads.get(key)
        if head is None:
            head = self.heads[key] = (
                f'  {{"code": {_string(key[0])}, "name": {_string(key[1])}, '
                f'"severity": {_string(key[2])}, "message": '
            )
        where = finding.where
        path = self.paths.get(where.path)
        if path is None:
            path = self.paths[where.path] = _string(where.path)
        fix = self.fixes.get(finding.fix)
        if fix is None:
            fix = self.fixes[finding.fix] = _string(finding.fix)
        line, col, end_line, end_col = where.line, where.col, where.end_line, where.end_col
        if type(line) is type(col) is type(end_line) is type(end_col) is int:
            span = f'"line": {line}, "col": {col}, "end_line": {end_line}, "end_col": {end_col}'
        else:
            span = (
                f'"line": {_integer(line)}, "col": {_integer(col)}, '
                f'"end_line": {_integer(end_line)}, "end_col": {_integer(end_col)}'
            )
        return (
            f"{head}{_string(finding.message)}, "
            f'"path": {path}, {span}, '
            f'"dag_id": {_string(finding.dag_id)}, "task_id": {_string(finding.task_id)}, '
            f'"fix": {fix}}}'
        )


def render_json(findings: list[Finding], colour: bool) -> str:
    if not findings:
        return "[]\n"
    line = JsonLines().line
    return "[\n" + ",\n".join([line(f) for f in findings]) + "\n]\n"
