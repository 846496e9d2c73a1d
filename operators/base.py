"""What every resilient operator shares: policies, the hook, lineage, metrics, callbacks."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from airflow.sdk import AssetAlias, BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_spof import lineage, metrics
from airflow_spof.core.endpoints import Endpoint, Replicas, ReplicaSetError
from airflow_spof.core.failover import FailoverPolicy, PermanentFailure
from airflow_spof.core.reports import FailoverReport, ReplicationReport
from airflow_spof.core.retry import RetryPolicy
from airflow_spof.hooks.backend import Timeouts
from airflow_spof.hooks.replicated import ReplicatedHook
from airflow_spof.quality import QualityGate
from airflow_spof.settings import SpofSettings

DegradedCallback = Callable[[dict[str, Any]], Any]


def as_replicas(value: Replicas | Endpoint | Sequence[Endpoint], role: str) -> Replicas:
    """Accept a replica set, one endpoint or a list; reads need no write consistency."""
    if isinstance(value, Replicas):
        return value
    endpoints = [value] if isinstance(value, Endpoint) else list(value)
    try:
        return Replicas(*endpoints, write_consistency="one")
    except ReplicaSetError as exc:
        raise ReplicaSetError(f"{role}: {exc}") from None


def _check_retry_arguments(
    task_id: str,
    attempts: int | None,
    attempt_timeout: float | None,
    deadline: float | None,
    hedge_after: float | None,
) -> None:
    """Reject at DAG parse time what would otherwise fail, or be ignored, at run time."""
    if attempts is not None and (isinstance(attempts, bool) or attempts < 1):
        raise ValueError(f"{task_id}: attempts must be at least 1, got {attempts!r}")
    for name, seconds in (
        ("attempt_timeout", attempt_timeout),
        ("deadline", deadline),
        ("hedge_after", hedge_after),
    ):
        if seconds is not None and not seconds > 0:
            raise ValueError(
                f"{task_id}: {name} must be a positive number of seconds, got {seconds!r}"
            )


class SpofBaseOperator(BaseOperator):
    """Base for operators that read with failover and/or write to replicas.

    :param asset_alias: name of the AssetAlias outlet carrying the lineage of
        fallbacks (default ``spof:<dag_id>.<task_id>``).
    :param expectations: great-expectations checks applied to what a source
        returns; failing data makes failover try the next source.
    :param attempts: tries per endpoint; :param attempt_timeout: seconds per try;
    :param deadline: seconds for the whole read; :param hedge_after: start the
        next source when the current one is silent this long.
    :param on_degraded: callables (or Airflow notifiers) called with the
        context, plus ``spof_report``, when a write reached W but not every replica.
    """

    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        asset_alias: str | None = None,
        expectations: Sequence[Any] | None = None,
        attempts: int | None = None,
        attempt_timeout: float | None = None,
        deadline: float | None = None,
        hedge_after: float | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        on_degraded: DegradedCallback | Iterable[DegradedCallback] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_retry_arguments(self.task_id, attempts, attempt_timeout, deadline, hedge_after)
        self.quality_gate = QualityGate(expectations) if expectations else None
        self.attempts = attempts
        self.attempt_timeout = attempt_timeout
        self.deadline = deadline
        self.hedge_after = hedge_after
        self.timeouts = Timeouts(connect=connect_timeout, read=read_timeout)
        if on_degraded is None:
            self.on_degraded: list[DegradedCallback] = []
        elif callable(on_degraded):
            self.on_degraded = [on_degraded]
        else:
            self.on_degraded = list(on_degraded)
        self._hooks: list[ReplicatedHook] = []
        self.asset_alias = asset_alias or f"spof:{self.dag_id}.{self.task_id}"
        self.outlets = [*self.outlets, AssetAlias(self.asset_alias)]

    def failover_policy(self) -> FailoverPolicy:
        base = SpofSettings.load().failover
        retry = RetryPolicy(
            attempts=self.attempts or base.retry.attempts,
            attempt_timeout=self.attempt_timeout or base.retry.attempt_timeout,
            backoff=base.retry.backoff,
        )
        return FailoverPolicy(retry=retry, deadline=self.deadline, hedge_after=self.hedge_after)

    def hook(self, replicas: Replicas) -> ReplicatedHook:
        hook = ReplicatedHook(
            replicas, failover_policy=self.failover_policy(), timeouts=self.timeouts
        )
        self._hooks.append(hook)
        return hook

    def finish(
        self,
        context: Any,
        *,
        sources: Replicas | None = None,
        source_item: str | None = None,
        failover: FailoverReport | None = None,
        replicas: Replicas | None = None,
        replica_item: str | None = None,
        replication: ReplicationReport | None = None,
    ) -> dict[str, Any]:
        """Emit asset events and metrics, run degraded callbacks; return the XCom report."""
        used: dict[str, Any] = {
            "sources": sources or (),
            "source_item": source_item,
            "failover": failover,
            "replicas": replicas or (),
            "replica_item": replica_item,
            "replication": replication,
        }
        events = lineage.asset_events(**used)
        lineage.emit(context, self.asset_alias, events)
        if self._hooks:  # the hook that did the work is the lineage context
            lineage.report_hook_lineage(
                self._hooks[0], events, failover=failover, replication=replication
            )
        result: dict[str, Any] = {}
        if failover is not None:
            metrics.record_failover(failover, self.task_id)
            result["failover"] = failover.to_dict()
            if failover.fell_back:
                self.log.warning(
                    "served by fallback %s after %s", failover.served_by, failover.fallback_from
                )
        if replication is not None:
            metrics.record_replication(replication, self.task_id)
            result["replication"] = replication.to_dict()
            if replication.degraded:
                self.log.warning(
                    "write reached %s of %s replicas; lagging: %s (hinted for repair)",
                    len(replication.acknowledged),
                    len(replication.outcomes),
                    replication.lagging,
                )
                self._call_degraded(context, result["replication"])
        return result

    def _call_degraded(self, context: Any, report: dict[str, Any]) -> None:
        """Notify of a degraded write; a failing callback is logged, never raised: the write
        met its consistency, and failing the task would hide its report and asset events."""
        for callback in self.on_degraded:
            try:
                callback({**context, "spof_report": report})
            except Exception:
                self.log.exception("on_degraded callback %r failed", callback)

    @contextlib.contextmanager
    def permanent_errors_fail_fast(self) -> Iterator[None]:
        """A permanent error (bad credentials, missing table) is not helped by a task retry."""
        try:
            yield
        except PermanentFailure as exc:
            raise AirflowFailException(str(exc)) from exc
