"""The resilient ETL example DAG through real dag.test(): healthy, region down, bad data, re-run."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow_spof.testing.dagrun import run_dag
from airflow_spof.testing.environment import ExampleEnvironment, sample_orders

DAY = datetime(2026, 11, 27, tzinfo=timezone.utc)
DS = "2026-11-27"
KEY = f"orders/{DS}.csv"
CURATED = ["s3:aws_use1/orders-curated-use1", "s3:aws_euw1/orders-curated-euw1"]


def curated_objects(env: ExampleEnvironment) -> dict[str, bytes | None]:
    found: dict[str, bytes | None] = {}
    for region_name, (_, bucket) in (
        ("us-east-1", (0, "orders-curated-use1")),
        ("eu-west-1", (0, "orders-curated-euw1")),
    ):
        region = env.regions[region_name]
        if not region.running:
            found[bucket] = None
            continue
        listing = region.client().list_objects_v2(Bucket=bucket).get("Contents", [])
        found[bucket] = (
            region.client().get_object(Bucket=bucket, Key=KEY)["Body"].read() if listing else None
        )
    local = env.nfs_root / "orders" / KEY
    found["nfs"] = local.read_bytes() if local.exists() else None
    return found


def test_healthy_run_serves_from_the_primary_and_writes_every_replica(env, dagbag) -> None:
    payload = env.land_orders(DS)
    result = run_dag(dagbag.get_dag("resilient_orders_etl"), DAY)
    assert result.succeeded, result.task_states
    assert set(curated_objects(env).values()) == {payload}
    served = result.xcoms["curate_orders"]["failover"]
    assert served["served_by"] == "s3:aws_use1/orders-landing-use1" and not served["fell_back"]
    assert len(env.rows("warehouse_use1", "orders")) == 20
    assert env.rows("warehouse_use1", "orders") == env.rows("warehouse_euw1", "orders")


def test_primary_region_down_falls_back_and_the_asset_event_says_so(env, dagbag) -> None:
    payload = env.land_orders(DS)
    env.regions["us-east-1"].kill()
    result = run_dag(dagbag.get_dag("resilient_orders_etl"), DAY)
    assert result.succeeded, result.task_states

    report = result.xcoms["curate_orders"]
    assert report["failover"]["served_by"] == "s3:aws_euw1/orders-landing-euw1"
    assert report["failover"]["fallback_from"] == ["s3:aws_use1/orders-landing-use1"]
    assert report["replication"]["lagging"] == ["s3:aws_use1/orders-curated-use1"]
    assert report["replication"]["degraded"] is True

    source_events = [e for e in result.events_of("curate_orders") if e.extra["role"] == "source"]
    assert [e.uri for e in source_events] == [f"s3://orders-landing-euw1/{KEY}"]
    extra = source_events[0].extra
    assert extra["served_by"] == "s3:aws_euw1/orders-landing-euw1" and extra["fell_back"] is True
    assert extra["fallback_from"] == ["s3:aws_use1/orders-landing-use1"]
    # The sensor probed the dead region first, so failover skipped it without a try.
    assert "unhealthy per probe" in extra["why"]["s3:aws_use1/orders-landing-use1"]
    assert "EndpointConnectionError" in extra["why"]["s3:aws_use1/orders-landing-use1"]
    replica_uris = {
        e.uri for e in result.events_of("curate_orders") if e.extra["role"] == "replica"
    }
    assert replica_uris == {
        f"s3://orders-curated-euw1/{KEY}",
        f"file://{env.nfs_root}/orders/{KEY}",
    }

    # The region returns (empty, as a lost region would); the repair step converges it.
    env.regions["us-east-1"].restart()
    env.create_buckets()
    repair = run_dag(dagbag.get_dag("hourly_repair"), DAY)
    assert repair.succeeded, repair.task_states
    assert set(curated_objects(env).values()) == {payload}


def test_quality_gate_rejects_the_primarys_data_and_falls_back(env, dagbag) -> None:
    bad = sample_orders(DS).replace(b",customer-3,", b",,")  # a null customer
    env.land_orders(DS, regions=("us-east-1",), data=bad)
    good = env.land_orders(DS, regions=("eu-west-1",))
    result = run_dag(dagbag.get_dag("resilient_orders_etl"), DAY)
    assert result.succeeded, result.task_states
    failover = result.xcoms["curate_orders"]["failover"]
    assert failover["served_by"] == "s3:aws_euw1/orders-landing-euw1"
    assert failover["attempts"][0]["error_class"] == "invalid_data"
    assert "quality gate" in failover["attempts"][0]["message"]
    assert set(curated_objects(env).values()) == {good}


def test_rerun_of_the_same_logical_date_writes_no_duplicates(env, dagbag) -> None:
    env.land_orders(DS)
    dag = dagbag.get_dag("resilient_orders_etl")
    first = run_dag(dag, DAY)
    rows_after_first = env.rows("warehouse_euw1", "orders")
    objects_after_first = curated_objects(env)
    second = run_dag(dag, DAY)
    assert first.succeeded and second.succeeded
    assert env.rows("warehouse_euw1", "orders") == rows_after_first
    assert len(rows_after_first) == 20
    assert curated_objects(env) == objects_after_first


def test_no_secret_reaches_xcom_events_or_the_state_store(env, dagbag, planted_secret) -> None:
    from airflow_spof.settings import state_store

    env.land_orders(DS)
    env.regions["us-east-1"].kill()
    result = run_dag(dagbag.get_dag("resilient_orders_etl"), DAY)
    assert result.succeeded
    seen = repr(result.xcoms) + repr([e.extra for e in result.asset_events])
    seen += repr(state_store().recent_events(limit=500))
    assert "s3:aws_use1" in seen  # the reports are there ...
    assert planted_secret not in seen  # ... and the connection's secret is not
