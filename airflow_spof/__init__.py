"""airflow-spof: remove single points of failure from Airflow pipelines.

Importing this package must stay cheap and Airflow-free: the linter runs in
pre-commit and the core is used outside Airflow.
"""

from airflow_spof.core.endpoints import Endpoint, Replicas, ReplicaSetError, fs, s3, sql

__all__ = ["Endpoint", "ReplicaSetError", "Replicas", "fs", "s3", "sql"]
__version__ = "0.1.0"
