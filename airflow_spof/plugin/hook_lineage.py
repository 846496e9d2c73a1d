"""The lineage of fallbacks for OpenLineage, through Airflow's hook-lineage collector.

Core Airflow never stores hook lineage; the collector is a no-op unless a
``hook_lineage_readers`` plugin (the OpenLineage provider's) is installed.
So this costs nothing without OpenLineage and, with it, OpenLineage
consumers see the same served-by / fallback-from facts as the asset events.
Operators call :func:`report_hook_lineage` right after ``lineage.asset_events``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from airflow_spof.core.endpoints import Endpoint
from airflow_spof.core.reports import FailoverReport, ReplicationReport
from airflow_spof.lineage import asset_events

log = logging.getLogger(__name__)

EXTRA_KEY = "airflow_spof"


def _default_collector() -> Any:
    try:
        from airflow.sdk.lineage import get_hook_lineage_collector
    except ImportError:  # an Airflow without hook lineage: nothing to report to
        return None
    return get_hook_lineage_collector()


def report_hook_lineage(
    hook: Any,
    *,
    sources: Iterable[Endpoint] = (),
    source_item: str | None = None,
    failover: FailoverReport | None = None,
    replicas: Iterable[Endpoint] = (),
    replica_item: str | None = None,
    replication: ReplicationReport | None = None,
    collector: Any = None,
) -> int:
    """Add the serving source as input and each written replica as output; return how many.

    ``hook`` is the lineage context (the ``ReplicatedHook`` that did the
    work). Lineage is best effort: a collector failure is logged, never raised.
    """
    collector = collector if collector is not None else _default_collector()
    if collector is None:
        return 0
    events = asset_events(
        sources=sources,
        source_item=source_item,
        failover=failover,
        replicas=replicas,
        replica_item=replica_item,
        replication=replication,
    )
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
