"""Engine-agnostic resilience: endpoints, errors, breakers, failover, replication, state.

Nothing in this package imports Airflow, so it can be tested, benchmarked and
reused on its own.
"""

from airflow_spof.core.breaker import BreakerPolicy, BreakerState, CircuitBreakers
from airflow_spof.core.endpoints import Endpoint, Replicas, ReplicaSetError, fs, s3, sql
from airflow_spof.core.errors import ErrorClass, InvalidData, classify
from airflow_spof.core.failover import AllEndpointsFailed, FailoverPolicy, failover
from airflow_spof.core.replication import ConsistencyNotReached, WriteAck, replicate
from airflow_spof.core.reports import FailoverReport, ReplicationReport
from airflow_spof.core.retry import RetryPolicy
from airflow_spof.core.state import StateStore

__all__ = [
    "AllEndpointsFailed",
    "BreakerPolicy",
    "BreakerState",
    "CircuitBreakers",
    "ConsistencyNotReached",
    "Endpoint",
    "ErrorClass",
    "FailoverPolicy",
    "FailoverReport",
    "InvalidData",
    "ReplicaSetError",
    "Replicas",
    "ReplicationReport",
    "RetryPolicy",
    "StateStore",
    "WriteAck",
    "classify",
    "failover",
    "fs",
    "replicate",
    "s3",
    "sql",
]
