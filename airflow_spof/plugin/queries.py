"""Read-only views of the shared state store, already filtered and scrubbed.

Each function returns plain JSON-ready dicts: the JSON API returns them as
they are and the HTML pages render the same dicts, so what a script sees is
what a person sees.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from airflow_spof.core.breaker import BreakerPolicy, BreakerStatus
from airflow_spof.core.state import StateStore, breakers, events, health, hints
from airflow_spof.plugin.access import Viewer
from airflow_spof.plugin.secrets import known_secrets, scrub_all

EVENT_KINDS = ("failover", "breaker_open", "degraded", "write_failed", "replicated", "repair")
REPORT_KINDS = ("failover", "replicated", "degraded", "write_failed")
MAX_EVENTS = 500


def clean(value: Any) -> Any:
    """Scrub every string with the known connection secrets and the secret patterns."""
    return scrub_all(value, known_secrets())


def _rows(store: StateStore, query: Any) -> list[dict[str, Any]]:
    """All rows of a query as dicts; nothing when the store is unreachable (fail open)."""
    empty: list[dict[str, Any]] = []
    return store.run(lambda conn: [dict(r) for r in conn.execute(query).mappings()], empty)


def endpoint_health(store: StateStore) -> list[dict[str, Any]]:
    """The last probe of every endpoint, unhealthy first."""
    query = sa.select(health).order_by(health.c.healthy, health.c.endpoint)
    rows = _rows(store, query)
    now = time.time()
    for row in rows:
        row["age_s"] = round(now - row["checked_at"], 1)
    return clean(rows)


def breaker_states(store: StateStore, policy: BreakerPolicy) -> list[dict[str, Any]]:
    """Every breaker that ever counted a failure, open ones first, with time to half-open."""
    query = sa.select(breakers).order_by(breakers.c.endpoint)
    statuses = [BreakerStatus.from_row(r) for r in _rows(store, query)]
    order = {"open": 0, "half_open": 1, "closed": 2}
    statuses.sort(key=lambda s: (order.get(s.state.value, 3), s.endpoint))
    now = time.time()
    rows: list[dict[str, Any]] = [
        {
            "endpoint": s.endpoint,
            "state": s.state.value,
            "consecutive_failures": s.consecutive_failures,
            "opened_at": s.opened_at,
            "half_open_in_s": round(s.reopens_in(policy, now), 1)
            if s.state.value == "open"
            else None,
            "last_failure_at": s.last_failure_at,
            "last_error": s.last_error,
        }
        for s in statuses
    ]
    return clean(rows)


def pending_hints(store: StateStore) -> list[dict[str, Any]]:
    """Replica lag: per replica set and endpoint, how many writes it missed and since when."""
    query = sa.select(hints).order_by(hints.c.replica_set, hints.c.endpoint, hints.c.created_at)
    rows = _rows(store, query)
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[(row["replica_set"], row["endpoint"])].append(row)
    now = time.time()
    summary = [
        {
            "replica_set": replica_set,
            "endpoint": endpoint,
            "missed_items": len(items),
            "oldest_age_s": round(now - items[0]["created_at"], 1),
            "items": [i["item"] for i in items[:20]],
            "last_reason": items[-1]["reason"],
        }
        for (replica_set, endpoint), items in grouped.items()
    ]
    return clean(summary)


def _visible(viewer: Viewer) -> Any:
    """The SQL condition for events this viewer may read."""
    scoped = events.c.dag_id.in_(sorted(viewer.dag_ids)) if viewer.dag_ids else sa.false()
    return sa.or_(scoped, events.c.dag_id.is_(None)) if viewer.operational else scoped


def recent_events(
    store: StateStore,
    viewer: Viewer,
    *,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    map_index: int | None = None,
    kinds: tuple[str, ...] | None = None,
    since: float | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest events first, only from DAGs the viewer may read."""
    query = (
        sa.select(events)
        .where(_visible(viewer))
        .order_by(events.c.ts.desc(), events.c.id.desc())
        .limit(max(1, min(limit, MAX_EVENTS)))
    )
    for column, value in (("dag_id", dag_id), ("run_id", run_id), ("task_id", task_id)):
        if value:
            query = query.where(events.c[column] == value)
    if map_index is not None:
        query = query.where(
            events.c.map_index.is_(None) if map_index < 0 else events.c.map_index == map_index
        )
    if kinds:
        query = query.where(events.c.kind.in_(kinds))
    if since is not None:
        query = query.where(events.c.ts >= since)

    rows = _rows(store, query)
    for row in rows:
        row["detail"] = json.loads(row["detail"] or "{}")
    return clean(rows)


def event_summary(event: dict[str, Any]) -> str:
    """One line saying what an event means, for tables and tooltips."""
    detail = event.get("detail") or {}
    kind = event["kind"]
    if kind == "failover":
        skipped = ", ".join(detail.get("fallback_from") or []) or "?"
        return f"served by {detail.get('served_by')} after {skipped}"
    if kind in ("replicated", "degraded", "write_failed"):
        acked = len(detail.get("acknowledged") or [])
        lagging = ", ".join(detail.get("lagging") or []) or "none"
        return (
            f"{detail.get('item')}: {acked} acknowledged of {detail.get('required')} "
            f"required; lagging: {lagging}"
        )
    if kind == "breaker_open":
        return f"breaker opened: {detail.get('error', '')}"
    if kind == "repair":
        return (
            f"checked {detail.get('checked', 0)}, repaired {len(detail.get('repaired') or [])}, "
            f"hints resolved {detail.get('hints_resolved', 0)}, "
            f"{'converged' if detail.get('converged') else 'not converged'}"
        )
    return kind
