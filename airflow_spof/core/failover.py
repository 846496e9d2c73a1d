"""Ordered failover with shared breakers, health, retries, a deadline and optional hedging."""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from airflow_spof.core.breaker import Admission, BreakerStatus, CircuitBreakers
from airflow_spof.core.errors import ErrorClass, InvalidData, SpofError, classify, describe
from airflow_spof.core.reports import Attempt, FailoverReport
from airflow_spof.core.retry import Abandoned, AttemptTimeout, RetryPolicy, call_with_timeout
from airflow_spof.core.state import Health

E = TypeVar("E")
T = TypeVar("T")

Validator = Callable[[Any], "Mapping[str, Any] | None"]
RUNNING = "running"  # an attempt's outcome until it answers or is given up on


class AllEndpointsFailed(SpofError):
    """No endpoint produced acceptable data; the message names each one and why."""

    def __init__(self, report: FailoverReport, reason: str = "all endpoints failed") -> None:
        lines = [f"{reason}:"]
        for attempt in report.attempts:
            kind = attempt.error_class.value if attempt.error_class else attempt.outcome
            lines.append(f"  - {attempt.endpoint}: {kind}: {attempt.message}")
        super().__init__("\n".join(lines))
        self.report = report


class DeadlineCut(AttemptTimeout):
    """A try stopped because the whole read's deadline ran out, before the endpoint's own
    attempt timeout: the read ran out of time, so the endpoint's breaker is not charged."""


class PermanentFailure(SpofError):
    """An endpoint failed in a way no failover fixes (bad credentials, missing table, bad SQL)."""

    def __init__(self, endpoint: str, message: str, report: FailoverReport) -> None:
        super().__init__(f"{endpoint}: permanent error, not failing over: {message}")
        self.report = report


SNAPSHOT_FRESH_FOR = 1.0
"""Seconds a call's breaker snapshot is trusted to say "closed, no failures" at its
success; a longer call reads the breaker again, one small read against a call of seconds."""


@dataclass(frozen=True)
class FailoverPolicy:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    deadline: float | None = None  # seconds for the whole read, across endpoints
    hedge_after: float | None = None  # start the next endpoint if no answer by then
    health_ttl: float = 300.0  # how long an "unhealthy" probe keeps an endpoint back


def _name(endpoint: Any) -> str:
    return str(getattr(endpoint, "name", endpoint))


@dataclass
class _Run(Generic[E, T]):
    """One failover call: its inputs, its report and its bookkeeping."""

    endpoints: Sequence[E]
    call: Callable[[E], T]
    breakers: CircuitBreakers | None
    policy: FailoverPolicy
    validator: Validator | None
    secrets: Iterable[str]
    health: Mapping[str, Health]
    statuses: dict[str, BreakerStatus]
    snapshot_at: float
    report: FailoverReport
    deadline: float | None
    on_event: Callable[..., None] | None
    held_back: list[E] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _began: dict[int, float] = field(default_factory=dict)

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def admitted(self) -> Iterator[E]:
        """Endpoints to try in order; held-back ones are offered only if nothing was tried."""
        tried = False
        for endpoint in self.endpoints:
            reason = self._hold_back_reason(endpoint)
            if reason:
                self.report.attempts.append(Attempt(_name(endpoint), "skipped", message=reason))
                self.held_back.append(endpoint)
                continue
            tried = True
            yield endpoint
        if not tried and self.held_back:
            # Everything is open or unhealthy: trying one beats failing untried.
            yield min(self.held_back, key=self._last_failure)

    def _hold_back_reason(self, endpoint: E) -> str | None:
        name = _name(endpoint)
        probe = self.health.get(name)
        if probe and not probe.healthy and time.time() - probe.checked_at < self.policy.health_ttl:
            return f"unhealthy per probe: {probe.detail or 'no detail'}"
        if self.breakers is not None:
            admission = self.breakers.admit(name, self.statuses.get(name))
            if not admission.admitted:
                return "circuit breaker open"
            if admission is Admission.TRIAL:
                self.statuses.pop(name, None)  # state changed under us; re-read on success
        return None

    def _last_failure(self, endpoint: E) -> float:
        status = self.statuses.get(_name(endpoint))
        return (status.last_failure_at or 0.0) if status else 0.0

    def attempt(self, endpoint: E, hedged: bool = False, abandon: Abandoned | None = None) -> T:
        """Try one endpoint with retries; record each try; raise its last error.

        Once ``abandon`` is set (another hedged attempt won) no further try starts.
        """
        name = _name(endpoint)
        retrying = self.policy.retry.retrying(self.deadline)
        for try_ in retrying:
            if abandon is not None and abandon.is_set():
                raise AttemptTimeout(f"{name}: abandoned, another endpoint answered first")
            with try_:
                started = time.monotonic()
                record = self._started(name, hedged, started)
                try:
                    own, remaining = self.policy.retry.attempt_timeout, self.remaining()
                    try:
                        value = call_with_timeout(
                            lambda: self.call(endpoint), _min_timeout(own, remaining), abandon
                        )
                    except AttemptTimeout as exc:
                        if remaining is not None and (own is None or remaining < own):
                            raise DeadlineCut(
                                f"{name}: the read's deadline ran out during this try"
                            ) from exc
                        raise
                    quality = self.validator(value) if self.validator else None
                except BaseException as exc:
                    error_class = classify(exc)
                    message = describe(exc, self.secrets)
                    with self._lock:
                        settled = self._settle(record, "failed", error_class, message)
                        if settled and isinstance(exc, InvalidData):
                            summary = getattr(exc, "summary", None)
                            self.report.quality = summary or self.report.quality
                    raise
                with self._lock:
                    if self._settle(record, "ok") and quality is not None:
                        self.report.quality = dict(quality)
                return value
        raise AssertionError("unreachable: tenacity either returns or reraises")

    def _started(self, name: str, hedged: bool, started: float) -> Attempt:
        """Record a try when it starts, so the report lists tries in the order they began
        (with hedging, the primary first even when the hedged try answers before it)."""
        record = Attempt(name, RUNNING, hedged=hedged)
        with self._lock:
            self.report.attempts.append(record)
            self._began[id(record)] = started
        return record

    def _settle(
        self,
        record: Attempt,
        outcome: str,
        error_class: ErrorClass | None = None,
        message: str = "",
    ) -> bool:
        """Fill in a running try's result (caller holds the lock); False when it was already
        given up on, so a late answer cannot rewrite a report that was returned."""
        if record.outcome != RUNNING:
            return False
        record.outcome, record.error_class, record.message = outcome, error_class, message
        record.latency_ms = _ms(self._began.pop(id(record)))
        return True

    def give_up_running(self, why: str) -> None:
        """Mark the tries still running as failed with ``why``: nobody waits for them now."""
        with self._lock:
            for record in self.report.attempts:
                self._settle(record, "failed", None, f"abandoned: {why}")

    def succeeded(self, endpoint: E) -> None:
        if self.breakers is not None:
            name = _name(endpoint)
            fresh = time.monotonic() - self.snapshot_at <= SNAPSHOT_FRESH_FOR
            # An older snapshot may miss failures other workers recorded since: None makes
            # record_success read the breaker again before it decides there is nothing to reset.
            self.breakers.record_success(name, self.statuses.get(name) if fresh else None)

    def failed(self, endpoint: E, exc: BaseException) -> None:
        name = _name(endpoint)
        transient = classify(exc) is ErrorClass.TRANSIENT
        if (
            transient
            and not isinstance(exc, DeadlineCut)
            and self.breakers
            and self.breakers.record_failure(name, describe(exc, self.secrets))
        ):
            self.emit("breaker_open", name, {"error": describe(exc, self.secrets)})
        if classify(exc) is ErrorClass.PERMANENT:
            raise PermanentFailure(name, describe(exc, self.secrets), self.report) from None

    def emit(self, kind: str, endpoint: str | None, detail: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(kind, endpoint=endpoint, detail=detail)


def failover(
    endpoints: Sequence[E],
    call: Callable[[E], T],
    *,
    breakers: CircuitBreakers | None = None,
    policy: FailoverPolicy | None = None,
    validator: Validator | None = None,
    secrets: Iterable[str] = (),
    on_event: Callable[..., None] | None = None,
) -> tuple[T, FailoverReport]:
    """Return the first acceptable ``call(endpoint)`` and a report of every attempt.

    ``validator`` may raise :class:`InvalidData` to reject a value (the next
    endpoint is tried) or return a summary dict for the report.
    ``on_event(kind, endpoint=..., detail=...)`` hears about breakers opening
    and fallbacks, so callers can record them with their own context.
    """
    if not endpoints:
        raise ValueError("failover needs at least one endpoint")
    policy = policy or FailoverPolicy()
    started = time.monotonic()
    names = [_name(e) for e in endpoints]
    store = breakers.store if breakers is not None else None
    statuses, health = breakers.snapshot(names) if breakers is not None else ({}, {})
    run: _Run[E, T] = _Run(
        endpoints=endpoints,
        call=call,
        breakers=breakers,
        policy=policy,
        validator=validator,
        secrets=list(secrets),
        health=health,
        statuses=statuses,
        snapshot_at=started,
        report=FailoverReport(state_available=store.available if store is not None else True),
        deadline=None if policy.deadline is None else started + policy.deadline,
        on_event=on_event,
    )
    try:
        hedge_after = policy.hedge_after
        value = _sequential(run) if hedge_after is None else _hedged(run, hedge_after)
    finally:
        run.report.elapsed_ms = _ms(started)
        if store is not None:
            run.report.state_available = run.report.state_available and store.available
    if run.report.fell_back:
        run.emit("failover", run.report.served_by, run.report.to_dict())
    return value, run.report


def _sequential(run: _Run[E, T]) -> T:
    for endpoint in run.admitted():
        if run.deadline is not None and run.remaining() <= 0:  # type: ignore[operator]
            raise AllEndpointsFailed(
                run.report, "deadline exceeded before every endpoint was tried"
            )
        try:
            value = run.attempt(endpoint)
        except Exception as exc:
            run.failed(endpoint, exc)
            continue
        run.succeeded(endpoint)
        run.report.served_by = _name(endpoint)
        return value
    raise AllEndpointsFailed(run.report)


def _hedged(run: _Run[E, T], hedge_after: float) -> T:
    """Start the next endpoint whenever the running ones stay silent for ``hedge_after``.

    Attempts still running when this returns or raises are told they are abandoned, so
    one that would land somewhere (a copy) aborts instead of overwriting the winner's.
    """
    candidates = run.admitted()
    pool = cf.ThreadPoolExecutor(max_workers=len(run.endpoints), thread_name_prefix="spof-hedge")
    running: dict[cf.Future[T], E] = {}
    flags: dict[cf.Future[T], Abandoned] = {}

    def launch(hedged: bool) -> bool:
        endpoint = next(candidates, None)
        if endpoint is None:
            return False
        flag = Abandoned()
        future = pool.submit(run.attempt, endpoint, hedged, flag)
        running[future], flags[future] = endpoint, flag
        return True

    try:
        launch(hedged=False)
        while running:
            remaining = run.remaining()
            timeout = hedge_after if remaining is None else max(0.0, min(hedge_after, remaining))
            done, _ = cf.wait(running, timeout=timeout, return_when=cf.FIRST_COMPLETED)
            if not done:
                if remaining is not None and remaining <= 0:
                    raise AllEndpointsFailed(run.report, "deadline exceeded")
                launch(hedged=True)
                continue
            for future in done:
                endpoint = running.pop(future)
                error = future.exception()
                if error is None:
                    run.succeeded(endpoint)
                    run.report.served_by = _name(endpoint)
                    return future.result()
                run.failed(endpoint, error)
            if not running:
                launch(hedged=False)
        raise AllEndpointsFailed(run.report)
    finally:
        for future in running:
            flags[future].set()
        winner = run.report.served_by
        run.give_up_running(f"{winner} answered first" if winner else "the read gave up")
        pool.shutdown(wait=False, cancel_futures=True)


def _min_timeout(a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return max(0.001, min(values)) if values else None


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0
