"""DAGs that exist for the operator tests: the edges the example DAGs do not reach."""

import os
from datetime import timedelta

from airflow.sdk import DAG, ObjectStoragePath, task

from airflow_spof import Replicas, fs, s3, sql
from airflow_spof.operators import (
    FailoverSqlOperator,
    FailoverTransferOperator,
    ReplicatedWriteOperator,
)

NFS = os.environ.get("SPOF_NFS_ROOT", "/mnt/nfs")
TWO_REGIONS_ALL = Replicas(
    s3("aws_use1", bucket="orders-curated-use1", region="us-east-1"),
    s3("aws_euw1", bucket="orders-curated-euw1", region="eu-west-1"),
    write_consistency="all",
    name="two_regions_all",
)
QUORUM = Replicas(
    s3("aws_use1", bucket="orders-curated-use1", region="us-east-1"),
    s3("aws_euw1", bucket="orders-curated-euw1", region="eu-west-1"),
    fs(f"{NFS}/cases", region="onprem"),
    name="cases_quorum",
)
DEGRADED_CALLS: list[dict] = []

with DAG(dag_id="spof_write_all", schedule=None, default_args={"retries": 0}):
    ReplicatedWriteOperator(
        task_id="write_all", replicas=TWO_REGIONS_ALL, key="cases/all.txt", data="payload"
    )


def remember_degraded(context):
    marker = os.path.join(NFS, "degraded-callback.json")
    with open(marker, "w") as handle:
        import json

        json.dump(context["spof_report"], handle)


with DAG(dag_id="spof_write_from_xcom", schedule=None, default_args={"retries": 0}):

    @task
    def produce() -> list[dict]:
        return [{"order_id": 1, "amount": 9.5}, {"order_id": 2, "amount": 3.0}]

    ReplicatedWriteOperator(
        task_id="write_rows_as_jsonl",
        replicas=QUORUM,
        key="cases/{{ ds }}/rows.jsonl",
        data=produce(),
        on_degraded=remember_degraded,
        execution_timeout=timedelta(minutes=5),
    )


WAREHOUSE_READS = [
    sql("warehouse_use1", table="orders", key="order_id", region="us-east-1"),
    sql("warehouse_euw1", table="orders", key="order_id", region="eu-west-1"),
]

with DAG(dag_id="spof_payload_sources", schedule=None, default_args={"retries": 0}):
    ReplicatedWriteOperator(
        task_id="from_local_file",
        replicas=QUORUM,
        key="cases/from-file.csv",
        source_path=f"{NFS}/input.csv",
    )
    ReplicatedWriteOperator(
        task_id="from_object_storage_path",
        replicas=QUORUM,
        key="cases/from-osp.csv",
        source_path=ObjectStoragePath(f"file://{NFS}/input.csv"),
    )
    ReplicatedWriteOperator(
        task_id="from_sql_result",
        replicas=QUORUM,
        key="cases/orders.jsonl",
        sql="SELECT order_id, amount FROM orders ORDER BY order_id",
        sql_source=WAREHOUSE_READS,
    )
    FailoverTransferOperator(
        task_id="table_to_parquet",
        sources=WAREHOUSE_READS,
        destination=QUORUM,
        destination_key="cases/orders.parquet",
    )
    FailoverSqlOperator(
        task_id="small_result_to_xcom",
        sources=WAREHOUSE_READS,
        sql="SELECT COUNT(*) AS n FROM orders",
    )

FRAME_REPLICAS = Replicas(
    fs(f"{NFS}/frames-a", region="r1", name="frames_a"),
    fs(f"{NFS}/frames-b", region="r2", name="frames_b"),
    name="frames",
)

with DAG(dag_id="spof_write_dataframe", schedule=None, default_args={"retries": 0}):

    @task
    def frame():
        import pandas as pd

        return pd.DataFrame({"order_id": [1, 2], "customer": ["ana", "bø"]})

    ReplicatedWriteOperator(
        task_id="write_frame", replicas=FRAME_REPLICAS, key="orders.csv", data=frame()
    )

with DAG(dag_id="spof_write_key_with_a_hash", schedule=None, default_args={"retries": 0}):
    ReplicatedWriteOperator(
        task_id="write_hash_key",
        replicas=FRAME_REPLICAS,
        key="reports/q1#2 draft.csv",
        data="a,b\n1,2\n",
    )

with DAG(dag_id="spof_write_rows_from_a_template", schedule=None, default_args={"retries": 0}):

    @task
    def rows() -> list[dict]:
        return [{"order_id": 1, "customer": "ana"}, {"order_id": 2, "customer": "bø"}]

    rows() >> ReplicatedWriteOperator(
        task_id="write_templated_rows",
        replicas=FRAME_REPLICAS,
        key="templated/rows.jsonl",
        data="{{ ti.xcom_pull(task_ids='rows') }}",
    )

with DAG(dag_id="spof_large_result_to_replicas", schedule=None, default_args={"retries": 0}):
    FailoverSqlOperator(
        task_id="large_result",
        sources=WAREHOUSE_READS,
        sql="SELECT order_id FROM orders ORDER BY order_id",
        max_xcom_rows=1,
        destination=FRAME_REPLICAS,
        destination_key="large/orders.csv",
    )

with DAG(dag_id="spof_empty_result_to_replicas", schedule=None, default_args={"retries": 0}):
    FailoverSqlOperator(
        task_id="empty_result",
        sources=WAREHOUSE_READS,
        sql="SELECT order_id, customer FROM orders WHERE order_id < 0",
        destination=FRAME_REPLICAS,
        destination_key="empty/orders.csv",
    )
