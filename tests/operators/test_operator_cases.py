"""Operator edges: W unreachable, XCom payloads, degraded callbacks, parse-time validation."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from airflow_spof import Replicas, ReplicaSetError, fs, s3, sql
from airflow_spof.testing.dagrun import run_dag

DAY = datetime(2026, 11, 27, tzinfo=timezone.utc)


def test_below_w_the_task_fails_and_nothing_is_reported_written(env, cases) -> None:
    env.regions["eu-west-1"].kill()
    result = run_dag(cases.get_dag("spof_write_all"), DAY)
    assert result.state == "failed" and result.task_states["write_all"] == "failed"
    assert "write_all" not in result.xcoms  # no report of success
    assert result.events_of("write_all") == []  # no asset event claims the data landed


def test_xcom_rows_become_jsonl_on_every_replica_and_degraded_calls_back(env, cases) -> None:
    env.regions["us-east-1"].kill()
    result = run_dag(cases.get_dag("spof_write_from_xcom"), DAY)
    assert result.succeeded, result.task_states
    report = result.xcoms["write_rows_as_jsonl"]["replication"]
    assert report["lagging"] == ["s3:aws_use1/orders-curated-use1"]
    written = (env.nfs_root / "cases" / "cases/2026-11-27/rows.jsonl").read_text()
    assert [json.loads(line)["order_id"] for line in written.splitlines()] == [1, 2]
    callback = json.loads((env.nfs_root / "degraded-callback.json").read_text())
    assert callback["degraded"] is True and callback["lagging"] == report["lagging"]


def test_replica_sets_fail_at_parse_time_with_the_problem_named() -> None:
    with pytest.raises(ReplicaSetError, match="exceeds the 2 replica"):
        Replicas(
            s3("a", bucket="x", region="r1"), s3("b", bucket="y", region="r2"), write_consistency=3
        )


def test_operator_arguments_are_checked_at_parse_time() -> None:
    from airflow_spof.operators import FailoverTransferOperator, ReplicatedWriteOperator

    objects = Replicas(fs("/a", region="x"), fs("/b", region="y"))
    tables = Replicas(sql("pg", table="t", key="id", region="x"))
    with pytest.raises(ValueError, match="exactly one of data, source_path or sql"):
        ReplicatedWriteOperator(task_id="w", replicas=objects, key="k")
    with pytest.raises(ValueError, match="object replicas need key="):
        ReplicatedWriteOperator(task_id="w", replicas=objects, data="x")
    with pytest.raises(ReplicaSetError, match="mixes object and table endpoints"):
        ReplicatedWriteOperator(
            task_id="w", replicas=Replicas(*objects, *tables), key="k", data="x"
        )
    with pytest.raises(ValueError, match="object sources need key="):
        FailoverTransferOperator(task_id="t", sources=objects, destination=tables)


def test_a_broken_replica_set_is_an_import_error_naming_it(tmp_path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    (tmp_path / "broken.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow_spof import Replicas, s3\n"
        "from airflow_spof.operators import ReplicatedWriteOperator\n"
        "R = Replicas(s3('a', bucket='x', region='r1'), s3('b', bucket='y', region='r1'),\n"
        "             min_regions=2)\n"
        "with DAG('broken', schedule=None):\n"
        "    ReplicatedWriteOperator(task_id='w', replicas=R, key='k', data='x')\n"
    )
    bag = DagBag(dag_folder=str(tmp_path))
    (error,) = bag.import_errors.values()
    assert "ReplicaSetError" in error and "at least 2 distinct regions, has 1" in error


def test_templated_fields_are_declared() -> None:
    from airflow_spof.operators import (
        FailoverSqlOperator,
        FailoverTransferOperator,
        ReplicatedWriteOperator,
    )

    assert {"key", "data", "source_path", "sql"} <= set(ReplicatedWriteOperator.template_fields)
    assert {"key", "destination_key", "sql"} <= set(FailoverTransferOperator.template_fields)
    assert {"sql", "parameters"} <= set(FailoverSqlOperator.template_fields)


def test_every_payload_source_reaches_the_replicas(env, cases) -> None:
    import io

    import pandas as pd
    import sqlalchemy as sa

    (env.nfs_root / "input.csv").write_bytes(b"a,b\n1,2\n")
    rows = [
        {"order_id": i, "customer": "c", "amount": i * 1.5, "order_date": "2026-11-27"}
        for i in range(1, 6)
    ]
    for conn_id in ("warehouse_use1", "warehouse_euw1"):
        engine = sa.create_engine(env.sql_url(conn_id))
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO orders VALUES (:order_id, :customer, :amount, :order_date)"),
                rows,
            )
        engine.dispose()
    env.regions["us-east-1"].kill()  # every read below falls back, every write is degraded

    result = run_dag(cases.get_dag("spof_payload_sources"), DAY)
    assert result.succeeded, result.task_states
    written = env.nfs_root / "cases" / "cases"
    assert (written / "from-file.csv").read_bytes() == b"a,b\n1,2\n"
    assert (written / "from-osp.csv").read_bytes() == b"a,b\n1,2\n"
    jsonl = [json.loads(line) for line in (written / "orders.jsonl").read_text().splitlines()]
    assert [r["order_id"] for r in jsonl] == [1, 2, 3, 4, 5]
    frame = pd.read_parquet(io.BytesIO((written / "orders.parquet").read_bytes()))
    assert sorted(frame["order_id"]) == [1, 2, 3, 4, 5]
    assert result.xcoms["small_result_to_xcom"] == [{"n": 5}]
    sql_report = result.xcoms["from_sql_result"]
    assert sql_report["failover"]["served_by"] == "sql:warehouse_use1/orders"
    assert sql_report["replication"]["lagging"] == ["s3:aws_use1/orders-curated-use1"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda op, r: op.ReplicatedWriteOperator(format="xlsx", **r), "unknown format 'xlsx'"),
        (
            lambda op, r: op.FailoverTransferOperator(
                task_id="w",
                sources=r["replicas"],
                destination=r["replicas"],
                key="k",
                destination_format="xml",
            ),
            "unknown format 'xml'",
        ),
        (
            lambda op, r: op.FailoverTransferOperator(
                task_id="w",
                sources=r["replicas"],
                destination=r["replicas"],
                key="k",
                source_format="CSV",
            ),
            "unknown format 'CSV'",
        ),
        (lambda op, r: op.ReplicatedWriteOperator(attempts=0, **r), "attempts must be"),
        (lambda op, r: op.ReplicatedWriteOperator(attempts=-2, **r), "attempts must be"),
        (lambda op, r: op.ReplicatedWriteOperator(attempt_timeout=0, **r), "attempt_timeout"),
        (lambda op, r: op.ReplicatedWriteOperator(deadline=-5, **r), "deadline"),
        (lambda op, r: op.ReplicatedWriteOperator(hedge_after=-1, **r), "hedge_after"),
    ],
    ids=[
        "write-format",
        "destination-format",
        "source-format",
        "attempts-0",
        "attempts-negative",
        "attempt-timeout",
        "deadline",
        "hedge-after",
    ],
)
def test_bad_formats_and_retry_arguments_fail_at_parse_time(build, message) -> None:
    """Not at run time, after the query ran or the first replica was written."""
    from airflow_spof import operators

    kwargs = {
        "task_id": "w",
        "replicas": Replicas(fs("/a", region="x"), fs("/b", region="y")),
        "key": "k.csv",
        "data": "x",
    }
    with pytest.raises(ValueError, match=message):
        build(operators, kwargs)


def test_a_negative_max_xcom_rows_fails_at_parse_time() -> None:
    from airflow_spof.operators import FailoverSqlOperator

    with pytest.raises(ValueError, match="max_xcom_rows"):
        FailoverSqlOperator(
            task_id="q",
            sources=sql("pg", table="t", key="id", region="x"),
            sql="SELECT 1",
            max_xcom_rows=-1,
        )


def test_a_dataframe_from_xcom_is_written_to_object_replicas(env, cases) -> None:
    """``data`` may be a DataFrame (documented); object replicas get it in the key's format."""
    result = run_dag(cases.get_dag("spof_write_dataframe"), DAY)
    assert result.succeeded, result.task_states
    for replica in ("frames-a", "frames-b"):
        written = (env.nfs_root / replica / "orders.csv").read_bytes()
        assert written == "order_id,customer\n1,ana\n2,bø\n".encode()


def test_asset_events_name_the_object_written_even_with_uri_characters_in_its_key(
    env, cases
) -> None:
    """S3 and file keys may hold '#', '?', spaces: the event's URI must still name that object,
    not the part before '#' (Airflow drops a URI's fragment and re-sorts its query)."""
    from urllib.parse import unquote, urlsplit

    result = run_dag(cases.get_dag("spof_write_key_with_a_hash"), DAY)
    assert result.succeeded, result.task_states
    paths = sorted(unquote(urlsplit(e.uri).path) for e in result.events_of("write_hash_key"))
    assert paths == [
        f"{env.nfs_root}/{replica}/reports/q1#2 draft.csv" for replica in ("frames-a", "frames-b")
    ]


def test_a_template_pulling_rows_from_xcom_writes_the_rows(env, cases) -> None:
    """The documented ``data="{{ ti.xcom_pull(...) }}"``: without a native render the rows
    became their Python repr, written as one line of not-JSON into rows.jsonl."""
    result = run_dag(cases.get_dag("spof_write_rows_from_a_template"), DAY)
    assert result.succeeded, result.task_states
    for replica in ("frames-a", "frames-b"):
        lines = (env.nfs_root / replica / "templated" / "rows.jsonl").read_text().splitlines()
        assert [json.loads(line) for line in lines] == [
            {"order_id": 1, "customer": "ana"},
            {"order_id": 2, "customer": "bø"},
        ]


def test_a_large_result_written_to_replicas_still_pushes_its_failover_report(env, cases) -> None:
    """FailoverSqlOperator documents ``spof_report`` in XCom; a result too large for XCom goes
    to the destination, and which source served it must still be reported there."""
    import sqlalchemy as sa

    engine = sa.create_engine(env.sql_url("warehouse_use1"))
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO orders VALUES (:i, 'c', 1.5, '2026-11-27')"),
            [{"i": 1}, {"i": 2}],
        )
    engine.dispose()
    result = run_dag(cases.get_dag("spof_large_result_to_replicas"), DAY)
    assert result.succeeded, result.task_states
    assert (env.nfs_root / "frames-a" / "large" / "orders.csv").read_text() == "order_id\n1\n2\n"
    assert result.xcoms["large_result"]["failover"]["served_by"] == "sql:warehouse_use1/orders"
    assert xcom_of(result, "large_result", "spof_report")["failover"]["served_by"] == (
        "sql:warehouse_use1/orders"
    )


def test_an_empty_result_written_as_csv_keeps_its_header(env, cases) -> None:
    """Zero rows still have columns: readers (and quality gates) see an empty table with
    them, not a zero-byte file."""
    result = run_dag(cases.get_dag("spof_empty_result_to_replicas"), DAY)
    assert result.succeeded, result.task_states
    assert (env.nfs_root / "frames-a" / "empty" / "orders.csv").read_text() == (
        "order_id,customer\n"
    )


def xcom_of(result, task_id: str, key: str):
    """An XCom other than the return value, read from the metadata DB like RunResult's."""
    import sqlalchemy as sa
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        value = session.scalar(
            sa.select(XComModel.value).where(
                XComModel.dag_id == result.dag_id,
                XComModel.run_id == result.run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
            )
        )
    assert value is not None, f"no XCom {key!r} from {task_id}"
    return json.loads(value) if isinstance(value, str) else value
