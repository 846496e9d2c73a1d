"""The JSON API against a real deployment after a real regional outage."""

from __future__ import annotations

from typing import Any

# ``outage`` is tests/ui/conftest.py's OutageStack (test modules cannot import conftest).
OutageStack = Any


def test_every_route_needs_a_token(outage: OutageStack) -> None:
    for path in (
        "/spof/api/events",
        "/spof/api/overview",
        "/spof/resilience",
        "/spof/failovers.svg",
    ):
        assert outage.get(path).status_code == 401, path
    ti = {"dag_id": outage.dag_id, "run_id": outage.run_id, "task_id": "copy_orders"}
    assert outage.get("/spof/api/task-instance", **ti).status_code == 401
    assert outage.get("/spof/api/events", token="not-a-jwt").status_code in (401, 403)


def test_failover_event_with_token(outage: OutageStack) -> None:
    token = outage.token_for("admin")
    response = outage.get("/spof/api/events", token, dag_id=outage.dag_id, kind="failover")
    assert response.status_code == 200
    [event] = response.json()
    assert event["run_id"] == outage.run_id and event["task_id"] == "copy_orders"
    assert event["endpoint"] == outage.west_source
    assert event["detail"]["served_by"] == outage.west_source
    assert event["detail"]["fallback_from"] == [outage.east_source]


def test_overview_shows_the_outage(outage: OutageStack) -> None:
    body = outage.get("/spof/api/overview", outage.token_for("viewer")).json()
    assert body["restricted"] is False
    breakers = {b["endpoint"]: b for b in body["breakers"]}
    assert breakers[outage.east_source]["state"] == "open"
    assert 3500 < breakers[outage.east_source]["half_open_in_s"] <= 3600
    health = {h["endpoint"]: h["healthy"] for h in body["health"]}
    assert health == {outage.east_source: False, outage.west_source: True}
    [lag] = body["hints"]
    assert (lag["replica_set"], lag["endpoint"], lag["items"]) == (
        "curated",
        outage.east_replica,
        ["orders.csv"],
    )


def test_task_instance_reports_and_lineage(outage: OutageStack) -> None:
    token = outage.token_for("admin")
    ti = outage.get(
        "/spof/api/task-instance",
        token,
        dag_id=outage.dag_id,
        run_id=outage.run_id,
        task_id="copy_orders",
    ).json()
    picture = ti["picture"]
    assert [(s["endpoint"], s["status"]) for s in picture["sources"]] == [
        (outage.east_source, "failed"),
        (outage.west_source, "served"),
    ]
    assert "transient" in picture["sources"][0]["reason"]
    assert {(r["endpoint"], r["status"]) for r in picture["replicas"]} == {
        ("s3:aws_west/curated-west", "written"),
        (outage.east_replica, "lagging"),
    }
    assert ti["replication_reports"][0]["degraded"] is True
    # the UI leaves {MAP_INDEX} unfilled on an unmapped task's tab
    same = outage.get(
        "/spof/api/task-instance",
        token,
        dag_id=outage.dag_id,
        run_id=outage.run_id,
        task_id="copy_orders",
        map_index="{MAP_INDEX}",
    ).json()
    assert same["picture"] == picture
    # the probe task read nothing: its tab has no reports but still answers
    probe = outage.get(
        "/spof/api/task-instance",
        token,
        dag_id=outage.dag_id,
        run_id=outage.run_id,
        task_id="probe_landing",
    ).json()
    assert probe["failover_reports"] == [] and probe["picture"]["sources"] == []


def test_user_without_dag_access_sees_none_of_its_events(outage: OutageStack) -> None:
    token = outage.token_for("outsider")
    assert outage.get("/spof/api/events", token).json() == []
    assert outage.get("/spof/api/events", token, dag_id=outage.dag_id).json() == []
    assert outage.get("/spof/api/failovers", token).json()["series"] == {}
    ti = {"dag_id": outage.dag_id, "run_id": outage.run_id, "task_id": "copy_orders"}
    assert outage.get("/spof/api/task-instance", token, **ti).status_code == 404
    assert outage.get("/spof/api/overview", token).json()["restricted"] is True
    assert outage.get("/spof/api/breakers", token).status_code == 403
    page = outage.get("/spof/resilience", token)
    assert page.status_code == 200
    assert "copy_orders" not in page.text and outage.east_source not in page.text
