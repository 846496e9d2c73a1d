"""The cluster policy's static index of a DAG file: task lines, replica sets, noqa."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from airflow_spof.lint import source_index
from airflow_spof.lint.model import Endpoint, Finding, Location, ReplicaSet, Severity

SIBLING = textwrap.dedent(
    """
    from airflow_spof import Replicas, s3
    ORDERS = Replicas(  # noqa: SPF103
        s3("aws_a", bucket="a", region="us-east-1"),
        s3("aws_b", bucket="b", region="us-east-1"),
    )
    """
)
DAG_FILE = textwrap.dedent(
    """
    from airflow.sdk import DAG, TaskGroup
    from airflow.providers.standard.operators.bash import BashOperator
    from shared import ORDERS

    with DAG("one"):
        with TaskGroup("grp"):
            BashOperator(task_id="t", bash_command="x")  # noqa: SPF401
        BashOperator(task_id="t", bash_command="y")
    with DAG("two"):
        BashOperator(task_id="t", bash_command="x")
        BashOperator(task_id="only_here", bash_command="x")
    """
)


def _finding(code: str, where: Location | None) -> Finding:
    assert where is not None
    return Finding(code, "name", Severity.ERROR, "message", where)


def _line(where: Location | None) -> int:
    assert where is not None
    return where.line


def test_tasks_dags_and_sibling_replica_sets_are_located(tmp_path: Path) -> None:
    (tmp_path / "shared.py").write_text(SIBLING)
    path = tmp_path / "dag.py"
    path.write_text(DAG_FILE)
    index = source_index.build(str(path))
    grouped = index.task("one", "grp.t")
    assert grouped is not None and grouped.line == 8
    plain = index.task("two", "t")
    assert plain is not None and plain.line == 11
    assert _line(index.task("renamed_at_runtime", "only_here")) == 12  # unique task id
    assert index.task("renamed_at_runtime", "t") is None  # ambiguous: no guess
    assert index.dags["two"].line == 10
    runtime = ReplicaSet(
        [Endpoint("s3", "aws_a", "us-east-1", "a"), Endpoint("s3", "aws_b", "us-east-1", "b")]
    )
    declared = index.replica_set(runtime)
    assert declared is not None and declared.path == str(tmp_path / "shared.py")
    assert declared.line == 3


def test_noqa_applies_per_code_and_per_file(tmp_path: Path) -> None:
    (tmp_path / "shared.py").write_text(SIBLING)
    path = tmp_path / "dag.py"
    path.write_text(DAG_FILE)
    index = source_index.build(str(path))
    task = index.task("one", "grp.t")
    assert task is not None
    assert index.suppressed(_finding("SPF401", task))
    assert not index.suppressed(_finding("SPF402", task))
    assert not index.suppressed(_finding("SPF401", index.task("two", "t")))
    replicas = index.replica_set(
        ReplicaSet([Endpoint("s3", "aws_a", "us-east-1"), Endpoint("s3", "aws_b", "us-east-1")])
    )
    assert replicas is not None
    assert index.suppressed(_finding("SPF103", replicas))
    assert not index.suppressed(_finding("SPF102", replicas))


def test_index_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "dag.py"
    path.write_text(DAG_FILE)
    first = source_index.index_for(str(path))
    assert source_index.index_for(str(path)) is first
    path.write_text("# airflow-spof: skip-file\n" + DAG_FILE)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = source_index.index_for(str(path))
    assert second is not first and second.skip
    assert _line(second.task("two", "t")) == 12


def test_unreadable_or_broken_files_give_an_empty_index(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("with DAG('x'\n")
    assert source_index.index_for(str(broken)).tasks == {}
    assert source_index.index_for(str(tmp_path / "missing.py")).tasks == {}
