"""Metrics through Airflow's Stats (StatsD or OpenTelemetry, as the deployment configures)."""

from __future__ import annotations

from airflow_spof.core.reports import FailoverReport, ReplicationReport


def _incr(name: str, tags: dict[str, str]) -> None:
    from airflow.sdk.observability.stats import Stats

    Stats.incr(f"spof.{name}", tags=tags)


def record_failover(report: FailoverReport, task: str) -> None:
    for endpoint in report.fallback_from:
        _incr("failover", {"task": task, "from": endpoint, "to": report.served_by or "none"})


def record_replication(report: ReplicationReport, task: str) -> None:
    for endpoint in report.lagging:
        _incr("replica_write_failed", {"task": task, "endpoint": endpoint})
    if report.degraded:
        _incr("degraded", {"task": task, "replica_set": report.replica_set})


def record_breaker_open(endpoint: str) -> None:
    _incr("breaker_open", {"endpoint": endpoint})
