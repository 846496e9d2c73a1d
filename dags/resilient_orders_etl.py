"""Resilient ETL: wait for a healthy landing region, copy through a quality gate, load, repair.

Nothing here is pinned to one region: the sensor only needs one landing
replica up, the transfer falls back to eu-west-1 (or rejects bad data and
falls back), the writes succeed at quorum, and repair catches up whichever
replica missed a write.
"""

from datetime import timedelta

from airflow.sdk import DAG
from replica_sets import CURATED, LANDING, ORDER_EXPECTATIONS, WAREHOUSE

from airflow_spof.operators import (
    FailoverTransferOperator,
    ReplicaRepairOperator,
)
from airflow_spof.sensors import UpstreamAvailabilitySensor

default_args = {
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "execution_timeout": timedelta(minutes=30),
}

with DAG(
    dag_id="resilient_orders_etl",
    schedule="@daily",
    catchup=False,
    default_args=default_args,
    tags=["airflow-spof", "example"],
):
    # Deferrable: waiting for a region costs no worker slot.
    landing_up = UpstreamAvailabilitySensor(
        task_id="landing_available",
        targets=LANDING,
        min_available=1,
        deferrable=True,
        poke_interval=30,
        timeout=timedelta(hours=2).total_seconds(),
    )

    # Read us-east-1 first; on an outage or data failing the gate, read eu-west-1.
    curate = FailoverTransferOperator(
        task_id="curate_orders",
        sources=LANDING,
        destination=CURATED,
        key="orders/{{ ds }}.csv",
        expectations=ORDER_EXPECTATIONS,
        attempt_timeout=60,
    )

    # Load the curated file into every warehouse region (upsert by order_id: re-runs are safe).
    load = FailoverTransferOperator(
        task_id="load_warehouse",
        sources=CURATED,
        destination=WAREHOUSE,
        key="orders/{{ ds }}.csv",
    )

    # Bring any replica that missed a write up to date, even if a step above failed.
    repair = ReplicaRepairOperator(
        task_id="repair_curated",
        replicas=CURATED,
        prefix="orders/",
        trigger_rule="all_done",
    )

    landing_up >> curate >> load >> repair
