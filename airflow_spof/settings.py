"""The ``[spof]`` section of Airflow's configuration, read once per process.

Every key can also be set as ``AIRFLOW__SPOF__<KEY>`` in the environment,
the usual Airflow way.

``state_store_url``      SQLAlchemy URL of the shared state store (default: SQLite
                         under AIRFLOW_HOME)
``state_store_conn_id``  or an Airflow connection holding it (postgres, mysql, sqlite)
``breaker_failure_threshold`` consecutive transient failures that open a breaker (3)
``breaker_cooldown``     seconds an open breaker waits before one trial (30)
``attempts``             tries per endpoint before failing over (2)
``attempt_timeout``      hard limit per try, seconds (30)
``straggler_timeout``    seconds to wait for slow replicas once W acknowledged (30)
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from airflow_spof.core.breaker import BreakerPolicy, CircuitBreakers
from airflow_spof.core.failover import FailoverPolicy
from airflow_spof.core.retry import RetryPolicy
from airflow_spof.core.state import StateStore, default_state_url

SECTION = "spof"


def _conf_get(key: str, fallback: str | None = None) -> str | None:
    env = os.environ.get(f"AIRFLOW__{SECTION.upper()}__{key.upper()}")
    if env is not None:
        return env
    try:
        from airflow.sdk.configuration import conf

        value = conf.get(SECTION, key, fallback=fallback)
    except Exception:  # no Airflow config available (plain scripts): use the default
        return fallback
    return value if value not in ("", None) else fallback


@dataclass(frozen=True)
class SpofSettings:
    state_store_url: str
    breaker: BreakerPolicy
    failover: FailoverPolicy
    straggler_timeout: float

    @classmethod
    def load(cls) -> SpofSettings:
        retry = RetryPolicy(
            attempts=int(_conf_get("attempts", "2") or 2),
            attempt_timeout=float(_conf_get("attempt_timeout", "30") or 30),
        )
        return cls(
            state_store_url=_state_store_url(),
            breaker=BreakerPolicy(
                failure_threshold=int(_conf_get("breaker_failure_threshold", "3") or 3),
                cooldown=float(_conf_get("breaker_cooldown", "30") or 30),
            ),
            failover=FailoverPolicy(retry=retry),
            straggler_timeout=float(_conf_get("straggler_timeout", "30") or 30),
        )


def _state_store_url() -> str:
    url = _conf_get("state_store_url")
    if url:
        return url
    conn_id = _conf_get("state_store_conn_id")
    if conn_id:
        from airflow_spof.hooks.sql_connection import connection_target

        target = connection_target(conn_id, "[spof] state_store_conn_id")
        return target.url.render_as_string(hide_password=False)
    return default_state_url()


@functools.cache
def _store_for(url: str, pid: int) -> StateStore:
    return StateStore.from_url(url)


def state_store(url: str | None = None) -> StateStore:
    """The process-wide store (a fresh one after fork: engines must not cross processes)."""
    return _store_for(url or SpofSettings.load().state_store_url, os.getpid())


def circuit_breakers(store: StateStore | None = None) -> CircuitBreakers:
    return CircuitBreakers(store or state_store(), SpofSettings.load().breaker)
