"""The lineage of fallbacks: which source served and which replicas were written.

Endpoints are chosen at run time, so operators declare an ``AssetAlias`` as
their outlet and attach one asset event per endpoint actually used, with an
``extra`` that explains the choice; that is what the Airflow UI shows.
The same facts go to Airflow's hook-lineage collector, a no-op unless a
``hook_lineage_readers`` plugin (OpenLineage's) is installed, so OpenLineage
consumers see them too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from airflow_spof.core.endpoints import Endpoint
from airflow_spof.core.errors import scrub
from airflow_spof.core.reports import FailoverReport, ReplicationReport

log = logging.getLogger(__name__)


# Characters a URI path may hold as they are (RFC 3986 pchar, and "/"); the rest of a key
# ('#', '?', '%', spaces, non-ASCII) is percent-encoded, or Airflow would cut the URI at '#'.
_PATH_SAFE = "/:@!$&'()*+,;=~"


def asset_uri(endpoint: Endpoint, item: str | None = None) -> str:
    """A stable URI for the data an endpoint holds (no credentials: only ids and paths)."""
    suffix = f"/{item.lstrip('/')}" if item else ""
    if endpoint.kind == "s3":
        return f"s3://{quote(endpoint.location + suffix, safe=_PATH_SAFE)}"
    if endpoint.kind == "fs":
        return f"file://{quote(endpoint.location.rstrip('/') + suffix, safe=_PATH_SAFE)}"
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


EXTRA_KEY = "airflow_spof"


def _default_collector() -> Any:
    try:
        from airflow.sdk.lineage import get_hook_lineage_collector
    except ImportError:  # an Airflow without hook lineage: nothing to report to
        return None
    return get_hook_lineage_collector()


def report_hook_lineage(
    hook: Any,
    events: list[tuple[str, dict[str, Any]]],
    *,
    failover: FailoverReport | None = None,
    replication: ReplicationReport | None = None,
    collector: Any = None,
) -> int:
    """Add the serving source as input and each written replica as output; return how many.

    ``events`` are :func:`asset_events`; ``hook`` is the lineage context (the
    ``ReplicatedHook`` that did the work). Lineage is best effort: a collector
    failure is logged, never raised.
    """
    collector = collector if collector is not None else _default_collector()
    if collector is None:
        return 0
    try:
        for uri, extra in events:
            if extra["role"] == "source":
                collector.add_input_asset(hook, uri=uri, asset_extra=extra)
            else:
                collector.add_output_asset(hook, uri=uri, asset_extra=extra)
        summary = {
            "served_by": failover.served_by if failover else None,
            "fallback_from": failover.fallback_from if failover else [],
            "acknowledged": replication.acknowledged if replication else [],
            "lagging": replication.lagging if replication else [],
        }
        if failover is not None or replication is not None:
            collector.add_extra(hook, EXTRA_KEY, summary)
    except Exception as exc:
        log.warning("spof: hook lineage not recorded: %s", type(exc).__name__)
        return 0
    return len(events)
