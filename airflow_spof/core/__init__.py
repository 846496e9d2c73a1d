"""Engine-agnostic resilience: endpoints, errors, breakers, failover, replication, state.

Nothing in this package imports Airflow, so it can be tested, benchmarked and
reused on its own. Names are re-exported lazily (PEP 562): ``from airflow_spof.core
import Replicas`` does not import SQLAlchemy, ``CircuitBreakers`` or ``StateStore`` do.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_spof.core.breaker import BreakerPolicy, BreakerState, CircuitBreakers
    from airflow_spof.core.endpoints import Endpoint, Replicas, ReplicaSetError, fs, s3, sql
    from airflow_spof.core.errors import ErrorClass, InvalidData, classify
    from airflow_spof.core.failover import AllEndpointsFailed, FailoverPolicy, failover
    from airflow_spof.core.replication import ConsistencyNotReached, WriteAck, replicate
    from airflow_spof.core.reports import FailoverReport, ReplicationReport
    from airflow_spof.core.retry import RetryPolicy
    from airflow_spof.core.state import StateStore

_EXPORTS: dict[str, str] = {
    "BreakerPolicy": "breaker",
    "BreakerState": "breaker",
    "CircuitBreakers": "breaker",
    "Endpoint": "endpoints",
    "Replicas": "endpoints",
    "ReplicaSetError": "endpoints",
    "fs": "endpoints",
    "s3": "endpoints",
    "sql": "endpoints",
    "ErrorClass": "errors",
    "InvalidData": "errors",
    "classify": "errors",
    "AllEndpointsFailed": "failover",
    "FailoverPolicy": "failover",
    "failover": "failover",
    "ConsistencyNotReached": "replication",
    "WriteAck": "replication",
    "replicate": "replication",
    "FailoverReport": "reports",
    "ReplicationReport": "reports",
    "RetryPolicy": "retry",
    "StateStore": "state",
}

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


def __getattr__(name: str) -> Any:
    submodule = _EXPORTS.get(name)
    if submodule is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{submodule}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


class _Package(types.ModuleType):
    """Keeps ``failover`` the function: importing the submodule of the same name later
    would otherwise rebind the package attribute to the module."""

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            name in _EXPORTS
            and isinstance(value, types.ModuleType)
            and value.__name__ == f"{__name__}.{name}"
        ):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
