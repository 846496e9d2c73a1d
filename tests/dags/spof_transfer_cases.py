"""DAGs for transfer edges: a change of key and format, a gated copy in one format."""

import os

from airflow.sdk import DAG

from airflow_spof import Replicas, fs
from airflow_spof.operators import FailoverTransferOperator

NFS = os.environ.get("SPOF_NFS_ROOT", "/mnt/nfs")
SOURCES = Replicas(
    fs(f"{NFS}/xfer-src-a", region="r1", name="src_a"),
    fs(f"{NFS}/xfer-src-b", region="r2", name="src_b"),
    write_consistency="one",
    name="xfer_sources",
)
DESTINATION = Replicas(fs(f"{NFS}/xfer-dst", region="r1", name="dst"), name="xfer_destination")
with DAG(dag_id="spof_transfer_csv_to_parquet", schedule=None, default_args={"retries": 0}):
    FailoverTransferOperator(
        task_id="csv_to_parquet",
        sources=SOURCES,
        destination=DESTINATION,
        key="orders.csv",
        destination_key="orders.parquet",
    )

with DAG(dag_id="spof_gated_transfer_same_format", schedule=None, default_args={"retries": 0}):
    FailoverTransferOperator(
        task_id="gated_copy",
        sources=SOURCES,
        destination=DESTINATION,
        key="orders.jsonl",
        expectations=[{"type": "expect_column_to_exist", "kwargs": {"column": "zip"}}],
    )
