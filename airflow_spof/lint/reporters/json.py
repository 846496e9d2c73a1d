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


def render_json(findings: list[Finding], colour: bool) -> str:
    if not findings:
        return "[]\n"
    heads: dict[tuple[str, str, str], str] = {}
    paths: dict[str, str] = {}
    fixes: dict[str, str] = {}
    lines: list[str] = []
    for finding in findings:
        key = (finding.code, finding.name, finding.severity.label)
        head = heads.get(key)
        if head is None:
            head = heads[key] = (
                f'  {{"code": {_string(key[0])}, "name": {_string(key[1])}, '
                f'"severity": {_string(key[2])}, "message": '
            )
        where = finding.where
        path = paths.get(where.path)
        if path is None:
            path = paths[where.path] = _string(where.path)
        fix = fixes.get(finding.fix)
        if fix is None:
            fix = fixes[finding.fix] = _string(finding.fix)
        line, col, end_line, end_col = where.line, where.col, where.end_line, where.end_col
        if type(line) is type(col) is type(end_line) is type(end_col) is int:
            span = f'"line": {line}, "col": {col}, "end_line": {end_line}, "end_col": {end_col}'
        else:
            span = (
                f'"line": {_integer(line)}, "col": {_integer(col)}, '
                f'"end_line": {_integer(end_line)}, "end_col": {_integer(end_col)}'
            )
        lines.append(
            f"{head}{_string(finding.message)}, "
            f'"path": {path}, {span}, '
            f'"dag_id": {_string(finding.dag_id)}, "task_id": {_string(finding.task_id)}, '
            f'"fix": {fix}}}'
        )
    return "[\n" + ",\n".join(lines) + "\n]\n"
