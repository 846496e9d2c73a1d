"""FreshnessSensor: wait until some replica holds data newer than a bound, and say which."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowFailException

from airflow_spof.core.endpoints import Endpoint, Replicas, ReplicaSetError
from airflow_spof.core.failover import AllEndpointsFailed, PermanentFailure, failover
from airflow_spof.hooks.backend import Backend, Timeouts, open_backend
from airflow_spof.hooks.freshness import Stale, last_modified
from airflow_spof.hooks.sql_dialect import UnsafeIdentifier, check_identifier
from airflow_spof.settings import SpofSettings, circuit_breakers, state_store


class FreshnessSensor(BaseSensorOperator):
    """Succeed when the data at ``source`` changed less than ``max_age`` ago.

    Replicas are checked in order with failover: an unreachable replica (or
    one a probe or breaker marks down) falls back to the next, and so does a
    stale one. The first fresh replica wins; its name, change time and age
    are the return value (XCom) and are logged. A permanent error (a missing
    table, column or bucket) fails the task at once, without retries.

    :param source: an endpoint, a ``Replicas`` set or a list of endpoints (read order).
    :param max_age: how old the newest data may be (``timedelta`` or seconds).
    :param key: object stores: an object key, or a prefix ending in ``/``
        (its newest object counts). Templated.
    :param timestamp_column: SQL tables: the column whose ``max()`` is the change time
        (naive values are taken as UTC). Templated.
    """

    template_fields: Sequence[str] = ("key", "timestamp_column")
    ui_color = "#e8e1f5"

    def __init__(
        self,
        *,
        source: Endpoint | Replicas | Iterable[Endpoint],
        max_age: timedelta | float,
        key: str | None = None,
        timestamp_column: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.endpoints = _endpoints(source)
        self.max_age = max_age if isinstance(max_age, timedelta) else timedelta(seconds=max_age)
        if self.max_age <= timedelta(0):
            raise ReplicaSetError(f"max_age must be positive, got {self.max_age}")
        kinds = {ep.kind for ep in self.endpoints}
        if kinds & {"s3", "fs"} and not key:
            raise ReplicaSetError("FreshnessSensor on S3/filesystem endpoints needs key=")
        if "sql" in kinds:
            if not timestamp_column:
                raise ReplicaSetError("FreshnessSensor on SQL endpoints needs timestamp_column=")
            if "{{" not in timestamp_column:
                try:
                    check_identifier(timestamp_column, "timestamp column", self.task_id)
                except UnsafeIdentifier as exc:
                    raise ReplicaSetError(str(exc)) from None
        self.key = key
        self.timestamp_column = timestamp_column
        self.timeouts = Timeouts(connect=connect_timeout, read=read_timeout)

    def poke(self, context: Any) -> PokeReturnValue | bool:
        settings = SpofSettings.load()
        backends = self._open_backends()

        def fresh_since(endpoint: Endpoint) -> datetime:
            if endpoint.name not in backends:
                backends[endpoint.name] = open_backend(endpoint, self.timeouts)
            stamp = last_modified(backends[endpoint.name], self.key, column=self.timestamp_column)
            if stamp is None:
                raise Stale(f"{endpoint.name}: no data at {self._what(endpoint)}")
            age = datetime.now(timezone.utc) - stamp
            if age > self.max_age:
                raise Stale(f"{endpoint.name}: newest data is {age} old, max_age {self.max_age}")
            return stamp

        try:
            stamp, report = failover(
                self.endpoints,
                fresh_since,
                breakers=circuit_breakers(state_store(settings.state_store_url)),
                policy=settings.failover,
                secrets=[s for b in backends.values() for s in b.secrets],
            )
        except AllEndpointsFailed as exc:
            self.log.info("no fresh replica yet:\n%s", exc)
            return False
        except PermanentFailure as exc:  # poking again, or a task retry, would fail the same way
            raise AirflowFailException(
                f"{self.task_id}: {exc}; check the sensor's source, key and timestamp_column"
            ) from exc
        age = (datetime.now(timezone.utc) - stamp).total_seconds()
        skipped = [f"{a.endpoint} ({a.message})" for a in report.attempts if a.outcome != "ok"]
        self.log.info(
            "fresh data at %s: changed %s (%.1f s ago)%s",
            report.served_by,
            stamp.isoformat(),
            age,
            f"; passed over: {'; '.join(skipped)}" if skipped else "",
        )
        return PokeReturnValue(
            is_done=True,
            xcom_value={
                "endpoint": report.served_by,
                "last_modified": stamp.isoformat(),
                "age_seconds": round(age, 3),
                "fell_back": report.fell_back,
                "passed_over": skipped,
            },
        )

    def _open_backends(self) -> dict[str, Backend]:
        """Open what can be opened up front, so every backend's secrets are scrubbed."""
        backends: dict[str, Backend] = {}
        for endpoint in self.endpoints:
            try:
                backends[endpoint.name] = open_backend(endpoint, self.timeouts)
            except Exception as exc:  # retried, and reported, when its turn comes
                self.log.warning("could not prepare %s: %s", endpoint.name, type(exc).__name__)
        return backends

    def _what(self, endpoint: Endpoint) -> str:
        if endpoint.kind == "sql":
            return f"max({self.timestamp_column})"
        return repr(self.key)


def _endpoints(source: Endpoint | Replicas | Iterable[Endpoint]) -> list[Endpoint]:
    if isinstance(source, Endpoint):
        return [source]
    endpoints = list(source)
    if not endpoints:
        raise ReplicaSetError("FreshnessSensor needs at least one endpoint in source")
    for endpoint in endpoints:
        if not isinstance(endpoint, Endpoint):
            raise ReplicaSetError(
                "FreshnessSensor source members must be s3()/sql()/fs() endpoints, "
                f"got {endpoint!r}"
            )
    return endpoints
