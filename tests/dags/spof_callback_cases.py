"""A DAG whose degraded-write callback raises."""

import os

from airflow.sdk import DAG

from airflow_spof import Replicas, fs
from airflow_spof.operators import ReplicatedWriteOperator

NFS = os.environ.get("SPOF_NFS_ROOT", "/mnt/nfs")
PAIR = Replicas(
    fs(f"{NFS}/pair-a", region="r1", name="pair_a"),
    fs(f"{NFS}/pair-b", region="r2", name="pair_b"),
    write_consistency="one",
    name="pair",
)


def failing_notifier(context):
    raise RuntimeError("the pager is down")


with DAG(dag_id="spof_degraded_callback_fails", schedule=None, default_args={"retries": 0}):
    ReplicatedWriteOperator(
        task_id="write_degraded",
        replicas=PAIR,
        key="k.txt",
        data="payload",
        on_degraded=failing_notifier,
    )
