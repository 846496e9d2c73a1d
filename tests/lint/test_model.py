"""Finding and Location have hand-written constructors; they must stay frozen values."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from airflow_spof.lint.model import Finding, Location, Severity


def _finding(task_id: str | None = None) -> Finding:
    where = Location("dags/a.py", 3, 5, 4, 9, (3, 4))
    finding = Finding("SPF101", "single-connection", Severity.WARNING, "msg", where, "fix", "d")
    return dataclasses.replace(finding, task_id=task_id) if task_id else finding


def test_findings_are_frozen_hashable_values() -> None:
    finding = _finding()
    assert finding == _finding() and hash(finding) == hash(_finding())
    assert finding != _finding(task_id="t") and finding.task_id is None
    assert pickle.loads(pickle.dumps(finding)) == finding
    assert dataclasses.asdict(finding.where) == {
        "path": "dags/a.py",
        "line": 3,
        "col": 5,
        "end_line": 4,
        "end_col": 9,
        "noqa_lines": (3, 4),
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.code = "SPF102"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.where.line = 1  # type: ignore[misc]


def test_defaults_and_keywords_match_the_field_list() -> None:
    where = Location(path="p.py", line=1, col=1, end_line=1, end_col=2)
    assert where.noqa_lines == ()
    finding = Finding(code="SPF001", name="n", severity=Severity.ERROR, message="m", where=where)
    assert (finding.fix, finding.dag_id, finding.task_id) == ("", None, None)
    assert [f.name for f in dataclasses.fields(Finding)][-3:] == ["fix", "dag_id", "task_id"]
