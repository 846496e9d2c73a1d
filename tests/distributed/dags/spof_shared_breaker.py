"""Scenario 1: two workers share one circuit breaker through the PostgreSQL state store.

``first_read`` runs on worker A (queue ``qa``) and fails over from the dead
us-east-1 region, opening its breaker; ``second_read`` runs on worker B
(queue ``qb``) and must skip us-east-1 without a single attempt there.
"""

import os

import pendulum
from airflow.sdk import DAG

from airflow_spof import Replicas, fs, s3
from airflow_spof.operators import FailoverTransferOperator

OUT_ROOT = os.environ.get("SPOF_NFS_ROOT", "/tmp/spof-distributed")
KEY = "orders/2024-01-01.csv"

LANDING = Replicas(
    s3("aws_use1", bucket="orders-landing-use1", region="us-east-1"),
    s3("aws_euw1", bucket="orders-landing-euw1", region="eu-west-1"),
    write_consistency="one",
    name="landing",
)
OUT = Replicas(fs(f"{OUT_ROOT}/copies", region="onprem"), write_consistency="one", name="copies")

with DAG(
    "spof_shared_breaker",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 0},
):
    first = FailoverTransferOperator(
        task_id="first_read",
        queue="qa",
        sources=LANDING,
        destination=OUT,
        key=KEY,
        destination_key="first/{{ run_id }}.csv",
    )
    second = FailoverTransferOperator(
        task_id="second_read",
        queue="qb",
        sources=LANDING,
        destination=OUT,
        key=KEY,
        destination_key="second/{{ run_id }}.csv",
    )
    first >> second
