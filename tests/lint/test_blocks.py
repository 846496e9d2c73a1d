"""Reports rendered per file by the workers equal the reporters run over all findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_spof.lint.config import LintConfig
from airflow_spof.lint.engine import _report, lint_paths
from airflow_spof.lint.model import Finding, Location, Severity
from airflow_spof.lint.reporters import REPORTERS
from airflow_spof.lint.reporters.blocks import (
    Collision,
    JsonFormat,
    TextFormat,
    assemble,
    block_formats,
    render_block,
)

FIXTURES = Path(__file__).parent / "fixtures"


def _finding(path: str, line: int, code: str = "SPF401", severity: Severity = Severity.WARNING):
    return Finding(
        code=code,
        name="no-retries",
        severity=severity,
        message=f"m{line}",
        where=Location(path, line, 1, line, 5),
        fix="retries=3",
        dag_id="d",
        task_id="t",
    )


@pytest.mark.parametrize("name", ["text", "json"])
@pytest.mark.parametrize("colour", [False, True])
def test_blocks_and_loose_findings_join_into_the_sorted_report(name: str, colour: bool) -> None:
    fmt = block_formats(colour)[name]()
    a = [_finding("a.py", 1), _finding("a.py", 9, severity=Severity.ERROR)]
    b = [_finding("b.py", 2)]
    # c.py's lint reported a finding in d.py, which has no block of its own.
    c = [_finding("c.py", 3), _finding("d.py", 1)]
    parts = [render_block("c.py", c, fmt) or c, render_block("a.py", a, fmt), b]
    assert parts[0] is c and isinstance(parts[1], tuple)
    report, worst = assemble([p for p in parts if p is not None], fmt)
    expected = sorted([*c, *a, *b], key=Finding.sort_key)
    assert report == REPORTERS[name](expected, colour)
    assert worst == Severity.ERROR


def test_a_block_sharing_a_path_with_loose_findings_is_a_collision() -> None:
    fmt = TextFormat(False)
    block = render_block("a.py", [_finding("a.py", 5)], fmt)
    assert block is not None
    with pytest.raises(Collision) as raised:
        assemble([block, [_finding("b.py", 1), _finding("a.py", 2)]], fmt)
    assert raised.value.args == ("a.py",)


def test_nothing_found_renders_like_the_reporters() -> None:
    assert assemble([], TextFormat(False)) == ("", 0)
    assert assemble([], JsonFormat()) == ("[]\n", 0)


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("name", ["text", "json"])
def test_rendered_run_equals_findings_run(jobs: int, name: str) -> None:
    cfg = LintConfig(root=FIXTURES)
    plain = lint_paths([str(FIXTURES)], cfg, jobs=jobs, keep_modules=False)
    fmt = block_formats(False)[name]()
    rendered = lint_paths([str(FIXTURES)], cfg, jobs=jobs, keep_modules=False, fmt=fmt)
    assert plain.findings and not rendered.findings
    assert rendered.report == REPORTERS[name](plain.findings, False)
    assert rendered.worst == max(f.severity for f in plain.findings)


def test_colliding_file_is_linted_again_as_findings(tmp_path: Path) -> None:
    dag = tmp_path / "a.py"
    dag.write_text(
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "with DAG('a'):\n"
        "    BashOperator(task_id='t', bash_command='echo')\n"
    )
    cfg = LintConfig(root=tmp_path)
    own = lint_paths([str(tmp_path)], cfg).findings
    fmt = TextFormat(False)
    block = render_block(str(dag), own, fmt)
    # Another file's lint reported a finding inside a.py, between a.py's own lines.
    foreign = [_finding(str(dag), 4, code="SPF400")]
    report, _ = _report([dag, tmp_path / "b.py"], [block, foreign], cfg, [tmp_path], fmt)
    assert report == REPORTERS["text"](sorted([*own, *foreign], key=Finding.sort_key), False)
