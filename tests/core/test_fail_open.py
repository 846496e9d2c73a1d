"""A dead state store must not become the new single point of failure."""

from __future__ import annotations

import time

import pytest

from airflow_spof import Replicas, fs
from airflow_spof.core.breaker import CircuitBreakers
from airflow_spof.core.failover import failover
from airflow_spof.core.replication import WriteAck, replicate
from airflow_spof.core.state import StateStore
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
