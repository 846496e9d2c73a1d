"""Hourly anti-entropy: every replica set converges even when no write touched it."""

from datetime import timedelta

from airflow.sdk import DAG
from replica_sets import CURATED, REPORTING, WAREHOUSE

from airflow_spof.operators import ReplicaRepairOperator

with DAG(
    dag_id="hourly_repair",
    schedule="@hourly",
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "execution_timeout": timedelta(minutes=50)},
    tags=["airflow-spof", "example"],
):
    for replicas in (CURATED, WAREHOUSE, REPORTING):
        ReplicaRepairOperator(task_id=f"repair_{replicas.name}", replicas=replicas)
