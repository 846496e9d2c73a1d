"""Asset events that tell the Airflow UI which source served and which replicas were written.

Endpoints are chosen at run time, so operators declare an ``AssetAlias`` as
their outlet and attach one asset event per endpoint actually used, with an
``extra`` that explains the choice (the lineage of fallbacks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_spof.core.endpoints import Endpoint
from airflow_spof.core.errors import scrub
from airflow_spof.core.reports import FailoverReport, ReplicationReport


def asset_uri(endpoint: Endpoint, item: str | None = None) -> str:
    """A stable URI for the data an endpoint holds (no credentials: only ids and paths)."""
    suffix = f"/{item.lstrip('/')}" if item else ""
    if endpoint.kind == "s3":
        return f"s3://{endpoint.location}{suffix}"
    if endpoint.kind == "fs":
        return f"file://{endpoint.location.rstrip('/')}{suffix}"
    return f"sql://{endpoint.conn_id}/{endpoint.location}"


def failover_extra(report: FailoverReport) -> dict[str, Any]:
    """Who served, whom it replaced and why (one reason per endpoint passed over)."""
    why: dict[str, str] = {}
    for attempt in report.attempts:
        if attempt.outcome != "ok" and attempt.endpoint not in why:
            kind = attempt.error_class.value if attempt.error_class else attempt.outcome
            why[attempt.endpoint] = scrub(f"{kind}: {attempt.message}")
    return {
        "served_by": report.served_by,
        "fell_back": report.fell_back,
        "fallback_from": report.fallback_from,
        "why": {k: v for k, v in why.items() if k in report.fallback_from},
        "attempts": len([a for a in report.attempts if a.outcome != "skipped"]),
    }


def replication_extra(report: ReplicationReport, total: int) -> dict[str, Any]:
    return {
        "replica_set": report.replica_set,
        "consistency": f"{len(report.acknowledged)}/{total} (required {report.required})",
        "acknowledged": report.acknowledged,
        "lagging": report.lagging,
        "degraded": report.degraded,
    }


def asset_events(
    *,
    sources: Iterable[Endpoint] = (),
    source_item: str | None = None,
    failover: FailoverReport | None = None,
    replicas: Iterable[Endpoint] = (),
    replica_item: str | None = None,
    replication: ReplicationReport | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """(asset URI, extra) for the source that served and each replica that took the write."""
    events: list[tuple[str, dict[str, Any]]] = []
    served = failover_extra(failover) if failover is not None else {}
    if failover is not None and failover.served_by:
        by_name = {ep.name: ep for ep in sources}
        if failover.served_by in by_name:
            events.append(
                (asset_uri(by_name[failover.served_by], source_item), {"role": "source", **served})
            )
    if replication is not None:
        replica_list = list(replicas)
        written = replication_extra(replication, len(replica_list))
        for endpoint in replica_list:
            if endpoint.name in replication.acknowledged:
                events.append(
                    (
                        asset_uri(endpoint, replica_item),
                        {"role": "replica", "endpoint": endpoint.name, **written, **served},
                    )
                )
    return events


def emit(
    context: Mapping[str, Any], alias_name: str, events: list[tuple[str, dict[str, Any]]]
) -> None:
    """Attach the events to the task's asset alias outlet."""
    from airflow.sdk import Asset, AssetAlias

    outlet = context["outlet_events"][AssetAlias(alias_name)]
    for uri, extra in events:
        outlet.add(Asset(uri), extra=extra)
