"""W-of-N writes: the same write on every replica in parallel, success at W acks."""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from airflow_spof.core.endpoints import Endpoint, Replicas
from airflow_spof.core.errors import SpofError, classify, describe
from airflow_spof.core.reports import ReplicaOutcome, ReplicationReport
from airflow_spof.core.state import StateStore


@dataclass(frozen=True)
class WriteAck:
    """What a replica confirmed it stored: verified checksum and size (bytes or rows)."""

    checksum: str | None = None
    size: int | None = None


class ConsistencyNotReached(SpofError):
    """Fewer than W replicas acknowledged; nothing may be reported as written."""

    def __init__(self, report: ReplicationReport) -> None:
        lines = [
            f"write of {report.item!r} to {report.replica_set!r} reached "
            f"{len(report.acknowledged)} of the {report.required} acknowledgement(s) required:"
        ]
        for o in report.outcomes:
            status = (
                "ok"
                if o.ok
                else f"{o.error_class.value if o.error_class else 'failed'}: {o.message}"
            )
            lines.append(f"  - {o.endpoint}: {status}")
        super().__init__("\n".join(lines))
        self.report = report


def replicate(
    replicas: Replicas,
    write: Callable[[Endpoint], WriteAck | None],
    *,
    item: str,
    store: StateStore | None = None,
    straggler_timeout: float = 30.0,
    timeout: float | None = None,
    secrets: Iterable[str] = (),
) -> ReplicationReport:
    """Run ``write(endpoint)`` on every replica; return once W acked and stragglers settled.

    Stragglers get ``straggler_timeout`` seconds after W is reached (and the
    whole write at most ``timeout``); a replica that failed or is still running
    then gets a hint in the store so repair can bring it up to date.
    Raises :class:`ConsistencyNotReached` below W.
    """
    started = time.monotonic()
    secret_list = list(secrets)
    pool = cf.ThreadPoolExecutor(max_workers=len(replicas), thread_name_prefix="spof-write")
    futures = {pool.submit(_timed, write, ep): ep for ep in replicas}
    outcomes: dict[str, ReplicaOutcome] = {}
    hard_deadline = None if timeout is None else started + timeout
    settle_deadline: float | None = None
    try:
        pending = set(futures)
        while pending:
            deadline = _earliest(hard_deadline, settle_deadline)
            wait_for = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, pending = cf.wait(pending, timeout=wait_for, return_when=cf.FIRST_COMPLETED)
            if not done:
                break
            for future in done:
                endpoint = futures[future]
                outcomes[endpoint.name] = _outcome(endpoint, future, secret_list)
            acks = sum(o.ok for o in outcomes.values())
            if acks >= replicas.required_acks and settle_deadline is None:
                settle_deadline = time.monotonic() + straggler_timeout
        for future in pending:
            endpoint = futures[future]
            waited = time.monotonic() - started
            outcomes[endpoint.name] = ReplicaOutcome(
                endpoint.name,
                ok=False,
                latency_ms=waited * 1000,
                message=f"no acknowledgement after {waited:.1f}s (abandoned)",
            )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

    report = ReplicationReport(
        replica_set=replicas.name,
        item=item,
        required=replicas.required_acks,
        outcomes=[outcomes[ep.name] for ep in replicas],
        state_available=store.available if store is not None else True,
        elapsed_ms=(time.monotonic() - started) * 1000,
    )
    if not report.reached:
        raise ConsistencyNotReached(report)
    if store is not None:
        for outcome in report.outcomes:
            if not outcome.ok:
                outcome.hinted = store.add_hint(
                    replicas.name, outcome.endpoint, item, outcome.message
                )
        report.state_available = store.available
    return report


def _timed(
    write: Callable[[Endpoint], WriteAck | None], endpoint: Endpoint
) -> tuple[WriteAck, float]:
    started = time.monotonic()
    ack = write(endpoint) or WriteAck()
    return ack, (time.monotonic() - started) * 1000


def _outcome(
    endpoint: Endpoint, future: cf.Future[tuple[WriteAck, float]], secrets: list[str]
) -> ReplicaOutcome:
    error = future.exception()
    if error is not None:
        return ReplicaOutcome(
            endpoint.name, ok=False, error_class=classify(error), message=describe(error, secrets)
        )
    ack, latency_ms = future.result()
    return ReplicaOutcome(
        endpoint.name, ok=True, latency_ms=latency_ms, checksum=ack.checksum, size=ack.size
    )


def _earliest(*deadlines: float | None) -> float | None:
    present = [d for d in deadlines if d is not None]
    return min(present) if present else None
