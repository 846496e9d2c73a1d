"""Real outages: a PostgreSQL crash in the middle of a write, and a frozen (SIGSTOPped) primary."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from airflow_spof.core.endpoints import Replicas
from airflow_spof.core.errors import ErrorClass, classify
from airflow_spof.core.failover import FailoverPolicy, failover
from airflow_spof.core.replication import WriteAck, replicate
from airflow_spof.core.retry import RetryPolicy
from airflow_spof.hooks.backend import Timeouts, open_backend
from airflow_spof.hooks.repair import repair
from airflow_spof.hooks.sql_connection import dispose_engines
from airflow_spof.hooks.sql_errors import SqlTimeout
from airflow_spof.testing.postgres import PostgresCluster

TIMEOUT = 1.0
SLACK = 0.1  # failover must reach the next endpoint within TIMEOUT + SLACK


def crash_after(rows: Iterable[dict[str, Any]], count: int, cluster: PostgresCluster) -> Iterator:
    """Yield rows; crash the server (immediate stop) before row ``count`` is handed out."""
    for index, row in enumerate(rows):
        if index == count:
            cluster.stop("immediate")
        yield row


def test_crash_mid_write_quorum_hint_then_repair(
    databases: Any, tables: Any, rows: Any, store: Any
) -> None:
    endpoints = [tables.endpoint(db, batch_size=50) for db in ("pg1", "pg2", "lite")]
    replicas = Replicas(*endpoints, write_consistency="quorum")
    backends = {ep.name: open_backend(ep, Timeouts(connect=2, read=10)) for ep in endpoints}
    data = rows(200)
    backends["pg1"].probe()  # a warm pool, as in a worker that has written before

    def write(endpoint: Any) -> WriteAck:
        payload = crash_after(data, 120, databases.pg1) if endpoint.name == "pg1" else data
        return backends[endpoint.name].upsert(payload)

    report = replicate(replicas, write, item=tables.name, store=store)

    assert report.reached and report.lagging == ["pg1"]
    failed = report.outcomes[0]
    assert failed.error_class is ErrorClass.TRANSIENT and failed.hinted
    hints = store.pending_hints(replicas.name)
    assert [(h.endpoint, h.item) for h in hints] == [("pg1", tables.name)]

    databases.pg1.start()
    fingerprints = {name: b.fingerprints() for name, b in backends.items()}
    assert fingerprints["pg1"] == {}  # the crash rolled back the whole transaction
    assert fingerprints["pg2"] == fingerprints["lite"] and len(fingerprints["pg2"]) == 200

    repaired, settled = repair(replicas.name, backends, endpoints, hints)
    store.resolve_hints(settled)
    assert repaired.converged and len(repaired.repaired) == 200
    assert len({b.checksum() for b in backends.values()}) == 1
    assert not store.pending_hints(replicas.name)

    rerun = replicate(replicas, lambda ep: backends[ep.name].upsert(data), item=tables.name)
    assert not rerun.lagging
    assert {o.checksum for o in rerun.outcomes} == {report.outcomes[1].checksum}
    assert [tables.count(db) for db in ("pg1", "pg2", "lite")] == [200, 200, 200]


@pytest.fixture
def seeded(tables: Any, rows: Any) -> Any:
    for db in ("pg1", "pg2"):
        open_backend(tables.endpoint(db)).upsert(rows(30))
    return tables


def _invalidations(engine: sa.Engine) -> list[Any]:
    seen: list[Any] = []
    sa.event.listen(engine, "invalidate", lambda dbapi_conn, *_: seen.append(dbapi_conn))
    return seen


def test_frozen_server_cannot_hang_a_query(databases: Any, seeded: Any) -> None:
    backend = open_backend(seeded.endpoint("pg1"), Timeouts(connect=TIMEOUT, read=TIMEOUT))
    backend.probe()  # an open pooled connection: the case statement_timeout cannot save
    invalidated = _invalidations(backend.engine)
    databases.pg1.pause()
    try:
        started = time.monotonic()
        with pytest.raises(SqlTimeout, match="connection cut and discarded") as caught:
            backend.query("SELECT count(*) AS n FROM {table}")
        elapsed = time.monotonic() - started
    finally:
        databases.pg1.resume()
    assert TIMEOUT <= elapsed <= TIMEOUT + SLACK
    assert classify(caught.value) is ErrorClass.TRANSIENT
    assert len(invalidated) == 1
    assert backend.query("SELECT count(*) AS n FROM {table}") == [{"n": 30}]
    assert len(invalidated) == 1  # the next query got a healthy connection, no stale retry


def pause_after(rows: Iterable[dict[str, Any]], count: int, cluster: PostgresCluster) -> Iterator:
    """Yield rows; freeze the server (SIGSTOP) before row ``count`` is handed out."""
    for index, row in enumerate(rows):
        if index == count:
            cluster.pause()
        yield row


def test_frozen_server_cannot_hang_a_bulk_write(databases: Any, seeded: Any, rows: Any) -> None:
    """A write large enough for COPY, frozen between two batches: the watchdog still cuts
    it at the timeout, and nothing of it is committed."""
    backend = open_backend(
        seeded.endpoint("pg1", batch_size=60), Timeouts(connect=TIMEOUT, read=TIMEOUT)
    )
    backend.probe()
    try:
        started = time.monotonic()
        with pytest.raises(SqlTimeout, match="connection cut and discarded"):
            backend.upsert(pause_after(rows(300, start=100), 150, databases.pg1))
        elapsed = time.monotonic() - started
    finally:
        databases.pg1.resume()
    assert elapsed <= TIMEOUT + SLACK
    assert seeded.count("pg1") == 30


@pytest.mark.parametrize("pooled", [True, False], ids=["open-connection", "new-connection"])
def test_frozen_primary_fails_over_within_timeout(
    databases: Any, seeded: Any, pooled: bool
) -> None:
    """Open connection: the backend's own watchdog. New connection: libpq cannot connect-time
    out below 2 s, so the core's attempt timeout is the backstop."""
    endpoints = [seeded.endpoint("pg1"), seeded.endpoint("pg2")]
    dispose_engines()
    backends = {
        ep.name: open_backend(ep, Timeouts(connect=TIMEOUT, read=TIMEOUT)) for ep in endpoints
    }
    backends["pg2"].probe()
    if pooled:
        backends["pg1"].probe()
    reached: dict[str, float] = {}

    def read(endpoint: Any) -> list[dict[str, Any]]:
        reached.setdefault(endpoint.name, time.monotonic())
        return backends[endpoint.name].query("SELECT count(*) AS n FROM {table}")

    retry = RetryPolicy(attempts=1, attempt_timeout=None if pooled else TIMEOUT)
    databases.pg1.pause()
    try:
        started = time.monotonic()
        result, report = failover(endpoints, read, policy=FailoverPolicy(retry=retry))
    finally:
        databases.pg1.resume()

    assert result == [{"n": 30}] and report.served_by == "pg2"
    assert report.attempts[0].error_class is ErrorClass.TRANSIENT
    waited = reached["pg2"] - started
    assert waited <= TIMEOUT + SLACK, f"next endpoint reached after {waited:.3f}s"
