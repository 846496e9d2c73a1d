"""A pipeline hit by a regional outage: us-east-1 is gone when it runs.

The copy fails over from the dead east landing bucket to the west one
(opening east's breaker), and the curated write reaches west but not east
(degraded, hinted); then a probe records both sources' health. (Probing
first would make the copy skip east as known-unhealthy, never trying it.)
Connections come from AIRFLOW_CONN_* set by the UI tests.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_spof.core.endpoints import Replicas, s3
from airflow_spof.hooks.replicated import ReplicatedHook
from airflow_spof.operators import FailoverTransferOperator

LANDING = Replicas(
    s3("aws_east", bucket="landing-east", region="us-east-1"),
    s3("aws_west", bucket="landing-west", region="eu-west-1"),
    write_consistency="one",
    name="landing",
)
CURATED = Replicas(
    s3("aws_west", bucket="curated-west", region="eu-west-1"),
    s3("aws_east", bucket="curated-east", region="us-east-1"),
    write_consistency="one",
    name="curated",
)

with DAG("spof_ui_outage", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):

    @task
    def probe_landing() -> dict[str, dict[str, object]]:
        return ReplicatedHook(LANDING).probe()

    copy = FailoverTransferOperator(
        task_id="copy_orders", sources=LANDING, destination=CURATED, key="orders.csv"
    )
    copy >> probe_landing()
