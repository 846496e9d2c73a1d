"""Metrics reach Airflow's Stats backend (StatsD/OTel in deployments; a recorder here)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from airflow.sdk._shared.observability.metrics import stats as airflow_stats

from airflow_spof import metrics
from airflow_spof.core.errors import ErrorClass
from airflow_spof.core.reports import Attempt, FailoverReport, ReplicaOutcome, ReplicationReport


class Recorder:
    """A Stats backend that remembers every counter it was given."""

    def __init__(self) -> None:
        self.counters: list[tuple[str, dict[str, Any]]] = []

    def incr(self, stat: str, count: int = 1, rate: float = 1, *, tags: Any = None) -> None:
        self.counters.append((stat, dict(tags or {})))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    airflow_stats.initialize(factory=lambda: recording, export_legacy_names=False)
    yield recording
    airflow_stats.initialize(factory=airflow_stats.NoStatsLogger, export_legacy_names=False)


def test_a_fallback_counts_one_failover_per_endpoint_passed_over(recorder: Recorder) -> None:
    report = FailoverReport(
        served_by="west",
        attempts=[
            Attempt("east", "failed", 1.0, ErrorClass.TRANSIENT, "refused"),
            Attempt("west", "ok", 2.0),
        ],
    )
    metrics.record_failover(report, task="copy")
    assert recorder.counters == [("spof.failover", {"task": "copy", "from": "east", "to": "west"})]


def test_a_degraded_write_counts_the_lagging_replica_and_the_degradation(recorder) -> None:
    report = ReplicationReport(
        replica_set="curated",
        item="k",
        required=2,
        outcomes=[
            ReplicaOutcome("a", ok=True),
            ReplicaOutcome("b", ok=True),
            ReplicaOutcome("c", ok=False, error_class=ErrorClass.TRANSIENT),
        ],
    )
    metrics.record_replication(report, task="write")
    metrics.record_breaker_open("c")
    assert recorder.counters == [
        ("spof.replica_write_failed", {"task": "write", "endpoint": "c"}),
        ("spof.degraded", {"task": "write", "replica_set": "curated"}),
        ("spof.breaker_open", {"endpoint": "c"}),
    ]


def test_a_clean_run_counts_nothing(recorder: Recorder) -> None:
    metrics.record_failover(FailoverReport(served_by="east", attempts=[Attempt("east", "ok")]), "t")
    metrics.record_replication(
        ReplicationReport("s", "k", 1, outcomes=[ReplicaOutcome("a", ok=True)]), "t"
    )
    assert recorder.counters == []
