"""The JSON reporter assembles lines by hand; they must equal the json module's encoding."""

from __future__ import annotations

import json

from airflow_spof.lint.model import Finding, Location, PartialStr, Severity
from airflow_spof.lint.reporters.json import render_json


def _finding(message: str, dag_id: str | None, task_id: str | None, path: str) -> Finding:
    return Finding(
        code="SPF101",
        name="single-connection",
        severity=Severity.ERROR,
        message=message,
        where=Location(path, 3, 7, 4, 12, (3,)),
        fix='Use "Replicas(...)" \\ or a fallback',
        dag_id=dag_id,
        task_id=task_id,
    )


def test_json_lines_equal_the_encoder_output() -> None:
    findings = [
        _finding("task 'a' uses conn \"pg\"\tonly", "etl", "a", "dags/x.py"),
        _finding("non-ASCII: café ☃ \U0001f600", None, None, "dags/é.py"),
        _finding(PartialStr("f-string {?}/x"), PartialStr("dag_{?}"), "t", "dags/x.py"),
    ]
    encode = json.JSONEncoder().encode
    expected = "[\n" + ",\n".join("  " + encode(f.to_dict()) for f in findings) + "\n]\n"
    assert render_json(findings, False) == expected
    assert json.loads(render_json(findings, False))[1]["dag_id"] is None


def test_json_without_findings_is_an_empty_list() -> None:
    assert render_json([], False) == "[]\n"
