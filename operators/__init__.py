"""Operators for resilient pipelines; import them as ``airflow_spof.operators``."""

if __name__ != "airflow_spof.operators":
    raise ImportError("import this package as airflow_spof.operators, not as a top-level module")

from airflow_spof.operators.repair import ReplicaRepairOperator
from airflow_spof.operators.sql import FailoverSqlOperator
from airflow_spof.operators.transfer import FailoverTransferOperator
from airflow_spof.operators.write import ReplicatedWriteOperator

__all__ = [
    "FailoverSqlOperator",
    "FailoverTransferOperator",
    "ReplicaRepairOperator",
    "ReplicatedWriteOperator",
]
