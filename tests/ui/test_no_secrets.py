"""No page or API response reveals the connection password planted in the test connections."""

from __future__ import annotations

from typing import Any


def _paths(outage: Any) -> list[tuple[str, dict[str, Any]]]:
    ti = {"dag_id": outage.dag_id, "run_id": outage.run_id}
    return [
        ("/spof/resilience", {}),
        ("/spof/resilience", {"dag_id": outage.dag_id, "kind": "failover"}),
        ("/spof/task-instance", {**ti, "task_id": "copy_orders"}),
        ("/spof/task-instance", {**ti, "task_id": "probe_landing"}),
        ("/spof/failovers.svg", {}),
        ("/spof/api/overview", {}),
        ("/spof/api/health", {}),
        ("/spof/api/breakers", {}),
        ("/spof/api/hints", {}),
        ("/spof/api/events", {"limit": 500}),
        ("/spof/api/failovers", {}),
        ("/spof/api/task-instance", {**ti, "task_id": "copy_orders"}),
        ("/spof/api/task-instance", {**ti, "task_id": "probe_landing"}),
        ("/spof/openapi.json", {}),
        ("/api/v2/assets/events", {"order_by": "-timestamp"}),
    ]


def test_no_response_contains_the_planted_password(outage: Any) -> None:
    checked = 0
    for user in ("admin", "viewer", "outsider"):
        token = outage.token_for(user)
        for path, params in _paths(outage):
            response = outage.get(path, token, **params)
            assert outage.password not in response.text, f"{path} as {user}"
            checked += response.status_code == 200
    assert checked >= 30  # the scan read real pages, not error bodies


def test_asset_events_carry_served_by_and_fallback_from(outage: Any) -> None:
    events = outage.airflow.api("GET", "/api/v2/assets/events", params={"order_by": "-timestamp"})
    extras = [e["extra"] for e in events["asset_events"] if e["source_run_id"] == outage.run_id]
    source = next(x for x in extras if x.get("role") == "source")
    assert source["served_by"] == outage.west_source
    assert source["fallback_from"] == [outage.east_source]
