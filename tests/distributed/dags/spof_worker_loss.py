"""Scenario 2: a worker dies mid-run; only the task pinned to its queue is stranded.

The run first waits in the triggerer (no worker busy) for the test to drop a
release file; by then worker B is dead. ``work_1``/``work_2`` use the shared
``default`` queue and finish on worker A; ``pinned_qb`` can only run where
``qb`` is consumed, so it stays queued until a ``qb`` worker comes back.
"""

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.sdk import DAG


def _work(name: str) -> str:
    return name


with DAG(
    "spof_worker_loss",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 0},
):
    release = FileSensor(
        task_id="wait_for_release",
        filepath="{{ dag_run.conf['release_file'] }}",
        fs_conn_id="fs_root",
        deferrable=True,
        poke_interval=1,
        timeout=900,
    )
    shared = [
        PythonOperator(task_id=f"work_{i}", python_callable=_work, op_args=[f"work_{i}"])
        for i in (1, 2)
    ]
    pinned = PythonOperator(
        task_id="pinned_qb", queue="qb", python_callable=_work, op_args=["pinned_qb"]
    )
    release >> [*shared, pinned]
