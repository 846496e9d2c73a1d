"""UpstreamAvailabilitySensor: wait until enough upstreams answer, and tell failover who did."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException

from airflow_spof.core.endpoints import Endpoint, Replicas
from airflow_spof.hooks.backend import Timeouts
from airflow_spof.hooks.probes import (
    HttpTarget,
    Prober,
    ProbeResult,
    TcpTarget,
    flatten_targets,
    probe_all,
    record_health,
    required_available,
    target_to_dict,
)
from airflow_spof.settings import state_store
from airflow_spof.triggers.availability import AvailabilityTrigger

# Extra time the scheduler waits past the sensor's timeout before failing a deferral
# itself: the trigger fires its own timeout event first, with the reasons.
DEFERRAL_GRACE = timedelta(minutes=5)

TargetLike = Endpoint | Replicas | HttpTarget | TcpTarget


class UpstreamAvailabilitySensor(BaseSensorOperator):
    """Succeed once at least ``min_available`` of ``targets`` are healthy.

    Targets are data endpoints (``s3()``, ``sql()``, ``fs()`` or a whole
    ``Replicas`` set, probed through their backends), ``http(url)`` or
    ``http(path, conn_id=...)``, and ``tcp(host, port)``. Each probe's outcome
    is written to the shared state store, so failover in later tasks skips
    endpoints this sensor found down. The names of the healthy targets are
    the return value (XCom).

    :param targets: what to probe.
    :param min_available: an int, ``"one"``, ``"quorum"`` or ``"all"`` (default).
    :param sql_query: replaces ``SELECT 1`` on SQL endpoints (templated; ``{table}``
        is the endpoint's table); healthy when its first value is true-ish.
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param connect_timeout: / ``read_timeout``: limits of every single probe, seconds.

    On ``timeout`` the task fails (``AirflowSensorTimeout``), or is skipped with
    ``soft_fail=True``. Poke and reschedule modes work as for any sensor.
    """

    template_fields: Sequence[str] = ("targets", "sql_query")
    ui_color = "#d7ecd9"

    def __init__(
        self,
        *,
        targets: TargetLike | Iterable[TargetLike],
        min_available: int | str = "all",
        sql_query: str | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.targets = flatten_targets(targets)
        self.min_available = min_available
        self.required = required_available(min_available, len(self.targets))
        self.sql_query = sql_query
        self.deferrable = deferrable
        self.timeouts = Timeouts(connect=connect_timeout, read=read_timeout)

    def poke(self, context: Any) -> PokeReturnValue | bool:
        results = probe_all(Prober(self.timeouts, self.sql_query), self.targets)
        record_health(state_store(), results)
        return self._verdict(results)

    def _verdict(self, results: Sequence[ProbeResult]) -> PokeReturnValue | bool:
        healthy = [r.name for r in results if r.healthy]
        for result in results:
            self.log.info(
                "%s %s (%.0f ms): %s",
                result.name,
                "healthy" if result.healthy else "DOWN",
                result.latency_ms,
                result.detail,
            )
        self.log.info(
            "%d of %d targets healthy, %d required", len(healthy), len(results), self.required
        )
        if len(healthy) >= self.required:
            return PokeReturnValue(is_done=True, xcom_value=healthy)
        return False

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        verdict = self.poke(context)
        if isinstance(verdict, PokeReturnValue):
            return verdict.xcom_value
        self.defer(
            trigger=AvailabilityTrigger(
                targets=[target_to_dict(t) for t in self.targets],
                required=self.required,
                deadline=time.time() + self.timeout,
                poke_interval=self.poke_interval,
                sql_query=self.sql_query,
                connect_timeout=self.timeouts.connect,
                read_timeout=self.timeouts.read,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> list[str]:
        """Resume from the trigger: the healthy names, or a timeout that names what was down."""
        healthy = list(event.get("healthy") or [])
        if event.get("status") == "available":
            self.log.info("%d target(s) healthy: %s", len(healthy), ", ".join(healthy))
            return healthy
        down = [r for r in event.get("results") or [] if not r.get("healthy")]
        message = (
            f"upstreams not available after {self.timeout:g}s: {len(healthy)} of "
            f"{len(self.targets)} healthy, {self.required} required; down: "
            + "; ".join(f"{r['name']} ({r['detail']})" for r in down)
        )
        if self.soft_fail:
            self.log.warning("%s; skipping (soft_fail)", message)  # Airflow logs no skip reason
            raise AirflowSkipException(message)
        raise AirflowSensorTimeout(message)
