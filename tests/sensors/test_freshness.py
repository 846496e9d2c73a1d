"""FreshnessSensor on a directory, moto S3 regions and PostgreSQL: fresh, stale, fallback."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from airflow.sdk.exceptions import AirflowFailException

from airflow_spof.core.endpoints import Endpoint, Replicas, ReplicaSetError, fs, s3, sql
from airflow_spof.core.state import StateStore
from airflow_spof.sensors import FreshnessSensor
from airflow_spof.testing.moto_region import MotoRegion
from airflow_spof.testing.postgres import PostgresCluster

HOUR = 3600


def sensor(source: Any, **kwargs: Any) -> FreshnessSensor:
    kwargs.setdefault("task_id", "wait_for_fresh_data")
    kwargs.setdefault("max_age", timedelta(minutes=10))
    kwargs.setdefault("connect_timeout", 1.0)
    kwargs.setdefault("read_timeout", 2.0)
    return FreshnessSensor(source=source, **kwargs)


def write_file(root: Path, key: str, age_seconds: float = 0.0) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"payload")
    stamp = time.time() - age_seconds
    os.utime(path, (stamp, stamp))


# -- parse-time validation -------------------------------------------------------


def test_arguments_are_validated_at_parse_time(tmp_path: Path) -> None:
    directory = fs(str(tmp_path))
    table = sql("sqlite:///x.db", table="events")
    with pytest.raises(ReplicaSetError, match="needs key="):
        sensor(directory)
    with pytest.raises(ReplicaSetError, match="needs timestamp_column="):
        sensor(table)
    with pytest.raises(ReplicaSetError, match="max_age must be positive"):
        sensor(directory, key="k", max_age=0)
    with pytest.raises(ReplicaSetError, match="not a safe SQL identifier"):
        sensor(table, timestamp_column="updated_at; DROP TABLE events")
    with pytest.raises(ReplicaSetError, match="at least one endpoint"):
        sensor([], key="k")
    assert sensor(table, timestamp_column="{{ params.column }}").timestamp_column


# -- filesystem ----------------------------------------------------------------------


def test_fresh_and_stale_file(store: StateStore, tmp_path: Path) -> None:
    write_file(tmp_path, "daily/report.csv")
    verdict = sensor(fs(str(tmp_path), name="dir"), key="daily/report.csv").poke({})
    assert verdict
    assert verdict.xcom_value["endpoint"] == "dir"
    assert verdict.xcom_value["age_seconds"] < 60
    assert verdict.xcom_value["fell_back"] is False

    write_file(tmp_path, "daily/report.csv", age_seconds=2 * HOUR)
    assert not sensor(fs(str(tmp_path)), key="daily/report.csv").poke({})
    assert not sensor(fs(str(tmp_path)), key="daily/missing.csv").poke({})


def test_prefix_counts_its_newest_object(store: StateStore, tmp_path: Path) -> None:
    write_file(tmp_path, "in/a.csv", age_seconds=2 * HOUR)
    assert not sensor(fs(str(tmp_path)), key="in/").poke({})
    write_file(tmp_path, "in/b/c.csv", age_seconds=30)
    verdict = sensor(fs(str(tmp_path)), key="in/").poke({})
    assert verdict
    assert 29 <= verdict.xcom_value["age_seconds"] < 90


def test_stale_primary_falls_back_to_a_fresh_replica(store: StateStore, tmp_path: Path) -> None:
    primary, replica = tmp_path / "primary", tmp_path / "replica"
    write_file(primary, "k.json", age_seconds=2 * HOUR)
    write_file(replica, "k.json")
    source = Replicas(
        fs(str(primary), name="primary", region="r1"),
        fs(str(replica), name="replica", region="r2"),
        write_consistency="one",
    )
    verdict = sensor(source, key="k.json").poke({})
    assert verdict
    assert verdict.xcom_value["endpoint"] == "replica"
    assert verdict.xcom_value["fell_back"] is True
    assert "primary" in verdict.xcom_value["passed_over"][0]
    assert "old, max_age" in verdict.xcom_value["passed_over"][0]


# -- S3 (moto regions) -------------------------------------------------------------------


@pytest.fixture
def second_region() -> Iterator[MotoRegion]:
    """A second, killable region behind ``spof_sensor_s3_b``."""
    with MotoRegion(region_name="us-east-1") as started, pytest.MonkeyPatch.context() as mp:
        mp.setenv(*started.connection_env("spof_sensor_s3_b"))
        yield started


def test_s3_key_and_prefix_last_modified(
    store: StateStore, live_region: MotoRegion, bucket: str
) -> None:
    endpoint = s3("spof_sensor_s3", bucket=bucket, prefix="landing", name="s3-eu")
    assert not sensor(endpoint, key="day/part-0.parquet").poke({})
    live_region.client().put_object(Bucket=bucket, Key="landing/day/part-0.parquet", Body=b"x")
    verdict = sensor(endpoint, key="day/part-0.parquet").poke({})
    assert verdict
    assert verdict.xcom_value["endpoint"] == "s3-eu"
    assert sensor(endpoint, key="day/").poke({})
    assert not sensor(endpoint, key="day/", max_age=timedelta(microseconds=1)).poke({})


def test_unreachable_region_falls_back_to_the_next_replica(
    store: StateStore, live_region: MotoRegion, second_region: MotoRegion, bucket: str
) -> None:
    second_region.create_bucket(bucket)
    for region in (live_region, second_region):
        region.client().put_object(Bucket=bucket, Key="k.csv", Body=b"x")
    primary = s3("spof_sensor_s3", bucket=bucket, region="eu-west-1", name="eu")
    secondary = s3("spof_sensor_s3_b", bucket=bucket, region="us-east-1", name="us")
    live_region.kill()
    verdict = sensor([primary, secondary], key="k.csv").poke({})
    assert verdict
    assert verdict.xcom_value["endpoint"] == "us"
    assert verdict.xcom_value["fell_back"] is True
    assert "eu" in verdict.xcom_value["passed_over"][0]


# -- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture
def events_table(pg: PostgresCluster) -> Iterator[tuple[str, sa.Engine]]:
    table = f"events_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg.url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (id int primary key, loaded_at timestamptz)")
    try:
        yield table, engine
    finally:
        engine.dispose()


def insert(engine: sa.Engine, table: str, row_id: int, loaded_at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO {table} VALUES (:i, :t)"), {"i": row_id, "t": loaded_at})


def test_sql_max_timestamp(
    store: StateStore, pg: PostgresCluster, events_table: tuple[str, sa.Engine]
) -> None:
    table, engine = events_table
    endpoint: Endpoint = sql(pg.url, table=table, name="pg")
    check = sensor(endpoint, timestamp_column="loaded_at")
    assert not check.poke({})  # empty table: no data yet
    insert(engine, table, 1, datetime.now(timezone.utc) - timedelta(hours=3))
    assert not check.poke({})
    insert(engine, table, 2, datetime.now(timezone.utc) - timedelta(seconds=5))
    verdict = check.poke({})
    assert verdict
    assert verdict.xcom_value["endpoint"] == "pg"
    assert 4 <= verdict.xcom_value["age_seconds"] < 60


def test_stopped_database_falls_back_to_a_replica(
    store: StateStore,
    pg: PostgresCluster,
    events_table: tuple[str, sa.Engine],
    tmp_path: Path,
) -> None:
    table, engine = events_table
    insert(engine, table, 1, datetime.now(timezone.utc))
    sqlite_url = f"sqlite:///{tmp_path / 'replica.db'}"
    replica_engine = sa.create_engine(sqlite_url)
    with replica_engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (id int primary key, loaded_at timestamp)")
    insert(replica_engine, table, 1, datetime.now(timezone.utc).replace(tzinfo=None))
    replica_engine.dispose()

    source = [sql(pg.url, table=table, name="pg"), sql(sqlite_url, table=table, name="lite")]
    pg.stop()
    verdict = sensor(source, timestamp_column="loaded_at").poke({})
    assert verdict
    assert verdict.xcom_value["endpoint"] == "lite"
    assert verdict.xcom_value["fell_back"] is True


def test_key_is_templated(store: StateStore, tmp_path: Path) -> None:
    write_file(tmp_path, "2024-05-01/report.csv")
    check = sensor(fs(str(tmp_path)), key="{{ ds }}/report.csv")
    check.render_template_fields({"ds": "2024-05-01"})
    assert check.key == "2024-05-01/report.csv"
    assert check.poke({})


# -- permanent errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table_of", "column", "named"),
    [
        (lambda table: table, "loaded_att", "loaded_att"),
        (lambda table: f"{table}_typo", "loaded_at", "_typo"),
    ],
    ids=["misspelt-column", "misspelt-table"],
)
def test_a_misconfigured_check_fails_without_retries_after_a_down_replica(
    store: StateStore,
    pg: PostgresCluster,
    events_table: tuple[str, sa.Engine],
    tmp_path: Path,
    table_of: Any,
    column: str,
    named: str,
) -> None:
    """A stopped primary is passed over; the misconfiguration found on the replica after it
    fails the task for good (no task retry can fix it), naming the replica and the problem."""
    table, _ = events_table
    sqlite_url = f"sqlite:///{tmp_path / 'replica.db'}"
    replica_engine = sa.create_engine(sqlite_url)
    with replica_engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (id int primary key, loaded_at timestamp)")
    replica_engine.dispose()
    source = [
        sql(pg.url, table=table_of(table), name="pg"),
        sql(sqlite_url, table=table_of(table), name="lite"),
    ]
    pg.stop()
    with pytest.raises(AirflowFailException, match=f"lite: permanent error.*{named}"):
        sensor(source, timestamp_column=column).poke({})


def test_an_unsafe_templated_column_fails_without_retries(store: StateStore) -> None:
    check = sensor(sql("sqlite:///x.db", table="events"), timestamp_column="{{ params.c }}")
    check.render_template_fields({"params": {"c": "loaded_at; DROP TABLE events"}})
    with pytest.raises(AirflowFailException, match="not a safe SQL identifier"):
        check.poke({})


def test_a_misspelt_bucket_fails_without_retries(
    store: StateStore, live_region: MotoRegion, bucket: str
) -> None:
    """S3 answers a HEAD of a key in a missing bucket with a bare 404, as for a missing key:
    the sensor must not wait for data that can never arrive."""
    endpoint = s3("spof_sensor_s3", bucket=f"{bucket}-typo", name="s3-eu")
    with pytest.raises(AirflowFailException, match=f"s3-eu: .*bucket '{bucket}-typo'"):
        sensor(endpoint, key="day/part-0.parquet").poke({})
