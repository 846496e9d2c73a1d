"""Served-by / fallback-from facts reach Airflow's hook-lineage collector (OpenLineage's input)."""

from __future__ import annotations

from airflow.sdk.lineage import HookLineageCollector, NoOpCollector, get_hook_lineage_collector

from airflow_spof.core.endpoints import Replicas, s3
from airflow_spof.core.errors import ErrorClass
from airflow_spof.core.reports import Attempt, FailoverReport, ReplicaOutcome, ReplicationReport
from airflow_spof.hooks.replicated import ReplicatedHook
from airflow_spof.lineage import EXTRA_KEY, asset_events, report_hook_lineage

EAST = s3("aws_east", bucket="landing-east", region="us-east-1")
WEST = s3("aws_west", bucket="landing-west", region="eu-west-1")
SOURCES = Replicas(EAST, WEST, write_consistency="one", name="landing")
CURATED_WEST = s3("aws_west", bucket="curated-west", region="eu-west-1")
CURATED_EAST = s3("aws_east", bucket="curated-east", region="us-east-1")
CURATED = Replicas(CURATED_WEST, CURATED_EAST, write_consistency="one", name="curated")

FAILOVER = FailoverReport(
    served_by=WEST.name,
    attempts=[
        Attempt(EAST.name, "failed", 2.0, ErrorClass.TRANSIENT, "ConnectionRefusedError"),
        Attempt(WEST.name, "ok", 5.0),
    ],
)
REPLICATION = ReplicationReport(
    "curated",
    "orders.csv",
    1,
    [
        ReplicaOutcome(CURATED_WEST.name, True, 3.0),
        ReplicaOutcome(CURATED_EAST.name, False, 1.0, ErrorClass.TRANSIENT, "refused", hinted=True),
    ],
)


def _report(collector: object) -> int:
    hook = ReplicatedHook(SOURCES, event_context={})
    events = asset_events(
        sources=SOURCES,
        source_item="orders.csv",
        failover=FAILOVER,
        replicas=CURATED,
        replica_item="orders.csv",
        replication=REPLICATION,
    )
    return report_hook_lineage(
        hook, events, failover=FAILOVER, replication=REPLICATION, collector=collector
    )


def test_collector_receives_source_replicas_and_facts() -> None:
    collector = HookLineageCollector()
    assert _report(collector) == 2
    lineage = collector.collected_assets
    [source] = lineage.inputs
    assert source.asset.uri == "s3://landing-west/orders.csv"
    assert source.asset.extra["served_by"] == WEST.name
    assert source.asset.extra["fallback_from"] == [EAST.name]
    assert "transient" in source.asset.extra["why"][EAST.name]
    [replica] = lineage.outputs  # the lagging east replica took no write: no output asset
    assert replica.asset.uri == "s3://curated-west/orders.csv"
    assert replica.asset.extra["lagging"] == [CURATED_EAST.name]
    assert isinstance(replica.context, ReplicatedHook)
    [extra] = lineage.extra
    assert extra.key == EXTRA_KEY
    assert extra.value == {
        "served_by": WEST.name,
        "fallback_from": [EAST.name],
        "acknowledged": [CURATED_WEST.name],
        "lagging": [CURATED_EAST.name],
    }


def test_without_openlineage_the_default_collector_is_a_no_op() -> None:
    # No hook_lineage_readers plugin is installed here (OpenLineage is not), so core
    # hands out its no-op collector and reporting costs nothing and raises nothing.
    collector = get_hook_lineage_collector()
    assert isinstance(collector, NoOpCollector)
    assert _report(None) == 2
    assert not collector.has_collected
