"""airflow-spof: remove single points of failure from Airflow pipelines.

Importing this package must stay cheap and Airflow-free: the linter runs in
pre-commit and the core is used outside Airflow. The public names are
re-exported lazily (PEP 562), so ``import airflow_spof.lint`` pays for none of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_spof.core.endpoints import Endpoint, Replicas, ReplicaSetError, fs, s3, sql

__all__ = ["Endpoint", "ReplicaSetError", "Replicas", "fs", "s3", "sql"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in __all__:
        value = getattr(importlib.import_module("airflow_spof.core.endpoints"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
