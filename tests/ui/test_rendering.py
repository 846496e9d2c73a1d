"""Pages and SVGs from a real state store: names from DAG code escaped, secrets scrubbed.

No Airflow stack here: the templates, chart and lineage picture are fed by
the same query functions the routes use, over a SQLite state store.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_spof.core.breaker import BreakerPolicy, CircuitBreakers
from airflow_spof.core.errors import ErrorClass
from airflow_spof.core.reports import Attempt, FailoverReport, ReplicaOutcome, ReplicationReport
from airflow_spof.core.state import StateStore
from airflow_spof.plugin import chart, lineage_view, queries
from airflow_spof.plugin.access import Viewer
from airflow_spof.plugin.app import TEMPLATES

EVIL = "s3:<script>alert(1)</script>/bucket"
SECRET = "hunter2-very-secret"
TASK = {"dag_id": "orders", "run_id": "manual__1+00:00", "task_id": "copy", "map_index": None}


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    failover = FailoverReport(
        served_by="west",
        attempts=[
            Attempt(EVIL, "failed", 1.0, ErrorClass.TRANSIENT, f"refused password={SECRET}"),
            Attempt("west", "ok", 2.0),
        ],
    )
    replication = ReplicationReport(
        "curated",
        "orders.csv",
        1,
        [
            ReplicaOutcome("cw", True, 1.0),
            ReplicaOutcome("ce", False, 1.0, ErrorClass.TRANSIENT, "refused", hinted=True),
        ],
    )
    store.add_event("failover", failover.to_dict(), endpoint="west", **TASK)
    store.add_event("degraded", replication.to_dict(), replica_set="curated", **TASK)
    store.add_event("failover", failover.to_dict(), endpoint="west", dag_id="secret_dag")
    store.add_hint("curated", "ce", "orders.csv", "refused")
    CircuitBreakers(store, BreakerPolicy(failure_threshold=1, cooldown=60)).record_failure(EVIL)
    yield store
    store.dispose()


def _page(store: StateStore, viewer: Viewer) -> str:
    events = queries.recent_events(store, viewer)
    return TEMPLATES.get_template("resilience.html").render(
        viewer=viewer,
        overview={
            "restricted": False,
            "health": queries.endpoint_health(store),
            "breakers": queries.breaker_states(store, BreakerPolicy(cooldown=60)),
            "hints": queries.pending_hints(store),
        },
        events=[{**e, "summary": queries.event_summary(e)} for e in events],
        chart=chart.render_svg(chart.failover_series(events)),
        filters={},
        kinds=queries.EVENT_KINDS,
        dag_ids=sorted(viewer.dag_ids),
        hours=24,
    )


def test_resilience_page_escapes_and_scrubs(store: StateStore) -> None:
    html = _page(store, Viewer("alice", frozenset({"orders"}), operational=True))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert SECRET not in html and "password=***" in html
    assert 'data-state="open"' in html and "secret_dag" not in html
    assert "served by west after" in html


def test_breaker_reports_time_until_half_open(store: StateStore) -> None:
    [breaker] = queries.breaker_states(store, BreakerPolicy(cooldown=60))
    assert breaker["state"] == "open" and 55 < breaker["half_open_in_s"] <= 60


def test_events_are_filtered_by_dag_permission(store: StateStore) -> None:
    nobody = Viewer("bob", frozenset(), operational=False)
    assert queries.recent_events(store, nobody) == []
    only_secret = Viewer("carol", frozenset({"secret_dag"}), operational=False)
    assert {e["dag_id"] for e in queries.recent_events(store, only_secret)} == {"secret_dag"}


def test_lineage_picture_of_a_task_instance(store: StateStore) -> None:
    viewer = Viewer("alice", frozenset({"orders"}), operational=True)
    events = queries.recent_events(store, viewer, dag_id="orders", run_id=TASK["run_id"])
    lineage: dict[str, Any] = lineage_view.ti_lineage(events)
    picture = lineage["picture"]
    assert [(s["endpoint"], s["status"]) for s in picture["sources"]] == [
        (EVIL, "failed"),
        ("west", "served"),
    ]
    assert [(r["endpoint"], r["status"]) for r in picture["replicas"]] == [
        ("cw", "written"),
        ("ce", "lagging"),
    ]
    svg = str(lineage_view.render_svg(picture))
    assert "<script>" not in svg and SECRET not in svg
    assert svg.count('data-role="replica"') == 2


def test_chart_counts_failovers_per_endpoint_passed_over() -> None:
    now = time.time()
    events = [
        {"kind": "failover", "ts": now - 60, "detail": {"fallback_from": ["a", "b"]}},
        {"kind": "failover", "ts": now - 7200, "detail": {"fallback_from": ["a"]}},
        {"kind": "failover", "ts": now - 90000, "detail": {"fallback_from": ["a"]}},
    ]
    data = chart.failover_series(events, window_s=86400, buckets=24, now=now)
    assert sum(data["series"]["a"]) == 2 and data["series"]["a"][-1] == 1
    assert sum(data["series"]["b"]) == 1
    assert str(chart.render_svg(data)).count("<rect") == 3
