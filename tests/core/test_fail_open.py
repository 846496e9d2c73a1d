"""A dead state store must not become the new single point of failure."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from airflow_spof import Replicas, fs
from airflow_spof.core.breaker import CircuitBreakers
from airflow_spof.core.failover import failover
from airflow_spof.core.replication import WriteAck, replicate
from airflow_spof.core.state import StateStore, events, health
from airflow_spof.testing.mariadb import MariaDBServer
from airflow_spof.testing.postgres import PostgresCluster


@pytest.fixture(scope="module")
def stopped_postgres_store():
    cluster = PostgresCluster().init().start()
    store = StateStore.from_url(cluster.url)
    store.ensure_schema()  # it worked once; then the server dies
    cluster.stop("immediate")
    yield store
    store.dispose()
    cluster.destroy()


def test_failover_goes_on_and_reports_state_unavailable(stopped_postgres_store) -> None:
    def call(endpoint: str) -> str:
        if endpoint == "a":
            raise ConnectionRefusedError("a is down")
        return endpoint

    started = time.monotonic()
    value, report = failover(["a", "b"], call, breakers=CircuitBreakers(stopped_postgres_store))
    assert value == "b" and report.served_by == "b"
    assert report.state_available is False
    assert report.to_dict()["state_available"] is False
    assert time.monotonic() - started < 3  # one refused connection, not one per call


def test_replication_goes_on_and_reports_state_unavailable(stopped_postgres_store) -> None:
    reps = Replicas(fs("/a", region="x"), fs("/b", region="y"), fs("/c", region="z"))

    def write(endpoint) -> WriteAck:
        if endpoint.name == "fs:/c":
            raise ConnectionRefusedError("down")
        return WriteAck()

    report = replicate(reps, write, item="k", store=stopped_postgres_store)
    assert report.reached and report.lagging == ["fs:/c"]
    assert report.state_available is False
    assert report.outcomes[2].hinted is False  # no store to keep the hint: said, not hidden


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
def test_a_statement_the_store_rejects_does_not_blind_it(
    backend: str, state_url: Callable[[str, str], str]
) -> None:
    """A table changed under the store (by another release, or by hand) fails the calls that
    use it, open; the store still answers, so breakers and health keep working for everyone."""
    url = state_url(backend, "drifted")
    store = StateStore.from_url(url)
    try:
        assert store.record_health("a", healthy=False)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER TABLE {events.name} DROP COLUMN map_index")
        engine.dispose()

        assert store.add_event("failover", dag_id="d") is False
        assert store.available
        assert store.health_of(["a"])["a"].healthy is False
        assert store.record_health("a", healthy=True)
        assert store.health_of(["a"])["a"].healthy is True
    finally:
        store.dispose()


def test_a_constraint_error_fails_that_call_open_and_no_other(tmp_path: Path) -> None:
    store = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    row = {"endpoint": "a", "healthy": True, "checked_at": time.time()}
    try:
        assert store.record_health("a", healthy=True)
        duplicate = store.run(lambda conn: conn.execute(sa.insert(health).values(**row)), "open")
        assert duplicate == "open"
        assert store.available
        assert store.health_of(["a"])["a"].healthy is True
    finally:
        store.dispose()


def test_a_mariadb_store_that_stops_answering_is_left_alone() -> None:
    """PyMySQL reports a lost server as OperationalError, like a bad column: told apart by
    its error number, it blinds the store (no connect timeout per call) while down."""
    server = MariaDBServer().init().start()
    store = StateStore.from_url(server.url)
    try:
        assert store.record_health("a", healthy=True)
        server.stop()
        assert store.record_health("a", healthy=False) is False
        assert not store.available
        assert store.health_of(["a"]) == {}
    finally:
        store.dispose()
        server.destroy()
