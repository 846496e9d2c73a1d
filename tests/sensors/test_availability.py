"""UpstreamAvailabilitySensor in poke mode, and its trigger, against real upstreams."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException, TaskDeferred

from airflow_spof.core.endpoints import Endpoint, Replicas, ReplicaSetError, fs, s3, sql
from airflow_spof.core.failover import failover
from airflow_spof.core.state import StateStore
from airflow_spof.hooks.probes import required_available, target_from_dict, target_to_dict
from airflow_spof.sensors import UpstreamAvailabilitySensor, http, tcp
from airflow_spof.settings import circuit_breakers
from airflow_spof.testing.moto_region import MotoRegion
from airflow_spof.testing.postgres import PostgresCluster
from airflow_spof.testing.waiting import wait_until
from airflow_spof.triggers.availability import AvailabilityTrigger


def sensor(targets: Any, **kwargs: Any) -> UpstreamAvailabilitySensor:
    kwargs.setdefault("task_id", "wait_for_upstreams")
    kwargs.setdefault("poke_interval", 0.05)
    kwargs.setdefault("connect_timeout", 1.0)
    kwargs.setdefault("read_timeout", 2.0)
    return UpstreamAvailabilitySensor(targets=targets, **kwargs)


# -- parse-time validation -----------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"targets": []}, "nothing to probe"),
        ({"targets": [tcp("db", 5432)], "min_available": 2}, "can never be met with 1 target"),
        ({"targets": [tcp("db", 5432)], "min_available": 0}, "can never be met"),
        ({"targets": [tcp("db", 5432)], "min_available": "most"}, "unknown min_available"),
        ({"targets": [tcp("db", 5432)], "min_available": True}, "min_available must be"),
        ({"targets": [tcp("db", 5432), tcp("db", 5432)]}, "more than once: tcp:db:5432"),
        ({"targets": ["db:5432"]}, "use s3()/sql()/fs() endpoints"),
    ],
)
def test_bad_arguments_fail_at_parse_time(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ReplicaSetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        UpstreamAvailabilitySensor(task_id="t", **kwargs)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: http("ftp://example.com/x"), "absolute http:// or https:// URL"),
        (lambda: http("example.com/health"), "absolute http:// or https:// URL"),
        (lambda: http("https://user:pw@example.com/"), "carries credentials"),
        (lambda: http("https://example.com:99999/"), "out of range"),
        (lambda: http("https://example.com/", conn_id="api"), "path on the connection's host"),
        (lambda: http("https://example.com/", method="POST"), "GET, HEAD or OPTIONS"),
        (lambda: http("https://example.com/", expect_status=42), "not an HTTP status"),
        (lambda: tcp("db", 0), "port must be an integer 1-65535"),
        (lambda: tcp("", 5432), "host is required"),
    ],
)
def test_bad_targets_are_rejected(build: Any, message: str) -> None:
    with pytest.raises(ReplicaSetError, match=message):
        build()


def test_templated_url_is_checked_when_probed_not_at_parse_time() -> None:
    target = http("{{ var.value.api_url }}/health")
    assert target.name == "http:{{ var.value.api_url }}/health"


@pytest.mark.parametrize(
    ("min_available", "targets", "required"),
    [
        ("one", 5, 1),
        ("quorum", 1, 1),
        ("quorum", 2, 2),
        ("quorum", 3, 2),
        ("quorum", 4, 3),
        ("quorum", 5, 3),
        ("all", 4, 4),
        (3, 5, 3),
    ],
)
def test_min_available_arithmetic(min_available: int | str, targets: int, required: int) -> None:
    assert required_available(min_available, targets) == required


def test_replica_sets_expand_to_their_endpoints(tmp_path: Path) -> None:
    a = fs(str(tmp_path / "a"), name="a", region="r1")
    b = fs(str(tmp_path / "b"), name="b", region="r2")
    replicas = Replicas(a, b, write_consistency="one")
    built = sensor([replicas, tcp("db", 5432)], min_available="quorum")
    assert [t.name for t in built.targets] == ["a", "b", "tcp:db:5432"]
    assert built.required == 2
    assert [t.name for t in sensor(replicas).targets] == ["a", "b"]
    assert [t.name for t in sensor(a).targets] == ["a"]


def test_targets_round_trip_through_json(tmp_path: Path) -> None:
    targets = [
        fs(str(tmp_path), name="dir"),
        http("https://api.example.com/health?token=abc", expect_status=(200, 204)),
        http("/health", conn_id="api"),
        tcp("broker", 9092, region="eu"),
    ]
    assert targets[1].name == "http:https://api.example.com/health"  # query never in names
    for target in targets:
        assert target_from_dict(json.loads(json.dumps(target_to_dict(target)))) == target


def test_a_token_in_a_probe_url_is_masked_but_plain_parameters_are_not() -> None:
    """Some health endpoints only take a token in the query: it must not reach task logs
    or the rendered ``targets`` field (both go through Airflow's secrets masker)."""
    from airflow.sdk.log import redact

    token, key = "tok-3f9a77c2d1e8", "k-81be02f7aa"
    target = http(f"https://api.example.com/health?design=json&access_token={token}&apiKey={key}")
    rendered = json.dumps(redact(target_to_dict(target)))
    assert token not in rendered and key not in rendered and "design=json" in rendered
    assert token not in str(redact(f"GET {target.url} failed"))


# -- poke against real upstreams ---------------------------------------------------


def test_poke_counts_healthy_targets_and_returns_their_names(
    store: StateStore,
    tcp_listener: Any,
    closed_port: int,
    http_server: str,
    pg: PostgresCluster,
    tmp_path: Path,
) -> None:
    targets = [
        tcp("127.0.0.1", tcp_listener.port, name="tcp-up"),
        tcp("127.0.0.1", closed_port, name="tcp-down"),
        http(f"{http_server}/ok", name="http-up"),
        http(f"{http_server}/down", name="http-503"),
        sql(pg.url, table="anything", name="pg"),
        fs(str(tmp_path), name="dir"),
    ]
    verdict = sensor(targets, min_available=4).poke({})
    assert verdict
    assert verdict.xcom_value == ["tcp-up", "http-up", "pg", "dir"]
    assert not sensor(targets, min_available=5).poke({})

    health = store.health_of(t.name for t in targets)
    assert {n for n, h in health.items() if h.healthy} == {"tcp-up", "http-up", "pg", "dir"}
    assert "ConnectionRefusedError" in (health["tcp-down"].detail or "")
    assert "HTTP 503" in (health["http-503"].detail or "")


def test_expected_status_decides_http_health(store: StateStore, http_server: str) -> None:
    assert sensor([http(f"{http_server}/down", expect_status=503)]).poke({})
    assert not sensor([http(f"{http_server}/ok", expect_status=204)]).poke({})


def test_http_connection_supplies_host_and_credentials_and_never_leaks_them(
    store: StateStore, http_server: str, http_secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, port = http_server.removeprefix("http://").split(":")
    conn = {"conn_type": "http", "host": host, "port": int(port), "login": "probe"}
    monkeypatch.setenv("AIRFLOW_CONN_SPOF_API", json.dumps({**conn, "password": http_secret}))
    monkeypatch.setenv("AIRFLOW_CONN_SPOF_API_WRONG", json.dumps({**conn, "password": "nope!"}))
    good = http("/private", conn_id="spof_api", name="api")
    wrong = http("/private", conn_id="spof_api_wrong", name="api-wrong")
    assert sensor([good]).poke({})
    assert not sensor([wrong]).poke({})
    detail = store.health_of(["api-wrong"])["api-wrong"].detail or ""
    assert "HTTP 401" in detail
    assert http_secret not in detail


def test_custom_sql_query_decides_health(store: StateStore, pg: PostgresCluster) -> None:
    table = f"orders_{int(time.time() * 1000)}"
    engine = sa.create_engine(pg.url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE TABLE {table} (id int primary key)")
        endpoint = sql(pg.url, table=table, name="orders")
        has_rows = "SELECT count(*) > 0 FROM {table}"
        assert not sensor([endpoint], sql_query=has_rows).poke({})
        assert "returned False" in (store.health_of(["orders"])["orders"].detail or "")
        with engine.begin() as conn:
            conn.exec_driver_sql(f"INSERT INTO {table} VALUES (1)")
        assert sensor([endpoint], sql_query=has_rows).poke({})
    finally:
        engine.dispose()


def test_s3_endpoints_are_probed_through_their_connection(
    store: StateStore, live_region: MotoRegion, bucket: str, s3_secret: str
) -> None:
    endpoint = s3("spof_sensor_s3", bucket=bucket, name="s3-eu")
    missing = s3("spof_sensor_s3", bucket=f"{bucket}-missing", name="s3-missing")
    assert sensor([endpoint, missing], min_available=1).poke({}).xcom_value == ["s3-eu"]
    live_region.kill()
    assert not sensor([endpoint], min_available=1).poke({})
    detail = store.health_of(["s3-eu"])["s3-eu"].detail or ""
    assert "EndpointConnectionError" in detail or "Connect" in detail
    assert s3_secret not in detail


def test_recorded_health_makes_failover_skip_the_dead_endpoint(
    store: StateStore, pg: PostgresCluster, tmp_path: Path
) -> None:
    dead = sql(pg.url, table="t", name="primary-db")
    alive = fs(str(tmp_path), name="replica-dir")
    pg.stop()
    assert sensor([dead, alive], min_available=1).poke({}).xcom_value == ["replica-dir"]
    assert store.health_of(["primary-db"])["primary-db"].healthy is False

    called: list[str] = []

    def read(endpoint: Endpoint) -> str:
        called.append(endpoint.name)
        return endpoint.name

    value, report = failover([dead, alive], read, breakers=circuit_breakers(store))
    assert value == "replica-dir"
    assert called == ["replica-dir"]
    assert report.attempts[0].outcome == "skipped"
    assert "unhealthy per probe" in report.attempts[0].message

    pg.start()
    assert sensor([dead]).poke({})
    assert store.health_of(["primary-db"])["primary-db"].healthy is True


# -- timeouts ---------------------------------------------------------------------


def test_timeout_fails_the_task(store: StateStore, closed_port: int) -> None:
    with pytest.raises(AirflowSensorTimeout):
        sensor([tcp("127.0.0.1", closed_port)], timeout=0.3).execute({})


def test_timeout_with_soft_fail_skips(store: StateStore, closed_port: int) -> None:
    with pytest.raises(AirflowSkipException):
        sensor([tcp("127.0.0.1", closed_port)], timeout=0.3, soft_fail=True).execute({})


# -- deferrable: the trigger itself -------------------------------------------------------


def test_deferrable_sensor_succeeds_without_deferring_when_already_up(
    store: StateStore, tcp_listener: Any
) -> None:
    target = tcp("127.0.0.1", tcp_listener.port, name="up")
    assert sensor([target], deferrable=True).execute({}) == ["up"]


def test_deferrable_sensor_defers_to_a_restartable_trigger(
    store: StateStore, closed_port: int
) -> None:
    down = sensor([tcp("127.0.0.1", closed_port, name="down")], deferrable=True, timeout=60)
    with pytest.raises(TaskDeferred) as deferred:
        down.execute({})
    classpath, kwargs = deferred.value.trigger.serialize()
    assert classpath == "airflow_spof.triggers.availability.AvailabilityTrigger"
    json.dumps(kwargs)  # the triggerer stores these as JSON
    assert kwargs["targets"] == [{"type": "tcp", "host": "127.0.0.1", "port": closed_port,
                                  "name": "down", "region": None}]  # fmt: skip
    assert kwargs["required"] == 1
    assert time.time() + 50 < kwargs["deadline"] <= time.time() + 60
    assert deferred.value.method_name == "execute_complete"


async def _first_event(trigger: AvailabilityTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def test_trigger_fires_when_the_upstream_comes_back(
    store: StateStore, listener_factory: Any
) -> None:
    listener = listener_factory()
    target = tcp("127.0.0.1", listener.port, name="late")
    trigger = AvailabilityTrigger(
        [target_to_dict(target)], required=1, deadline=time.time() + 60, poke_interval=0.05
    )

    def bring_back_once_seen_down() -> None:
        wait_until(lambda: store.health_of(["late"]).get("late"), timeout=30, what="a probe")
        listener.start()

    helper = threading.Thread(target=bring_back_once_seen_down)
    helper.start()
    try:
        event = asyncio.run(_first_event(trigger))
    finally:
        helper.join()
    assert event["status"] == "available"
    assert event["healthy"] == ["late"]
    assert store.health_of(["late"])["late"].healthy is True


def test_trigger_times_out_with_the_reasons(store: StateStore, closed_port: int) -> None:
    target = tcp("127.0.0.1", closed_port, name="never")
    trigger = AvailabilityTrigger(
        [target_to_dict(target)], required=1, deadline=time.time() + 0.3, poke_interval=0.05
    )
    event = asyncio.run(_first_event(trigger))
    assert event["status"] == "timeout"
    assert event["results"][0]["name"] == "never"
    assert "ConnectionRefusedError" in event["results"][0]["detail"]

    waiting = sensor([target], timeout=0.3)
    with pytest.raises(AirflowSensorTimeout, match="never \\(ConnectionRefusedError"):
        waiting.execute_complete({}, event)
    soft = sensor([target], timeout=0.3, soft_fail=True)
    with pytest.raises(AirflowSkipException, match="0 of 1 healthy, 1 required"):
        soft.execute_complete({}, event)


def test_http_urls_and_tcp_hosts_are_templated(
    store: StateStore, http_server: str, tcp_listener: Any
) -> None:
    waiting = sensor(
        [http("{{ params.api }}/ok", name="api"), tcp("{{ params.host }}", tcp_listener.port)],
        params={"api": http_server, "host": "127.0.0.1"},
    )
    waiting.render_template_fields({"params": {"api": http_server, "host": "127.0.0.1"}})
    assert waiting.targets[0].url == f"{http_server}/ok"
    assert waiting.poke({}).xcom_value == ["api", f"tcp:{{{{ params.host }}}}:{tcp_listener.port}"]
