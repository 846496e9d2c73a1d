"""A circuit breaker whose state lives in the shared store, so all workers agree.

closed --(threshold consecutive transient failures)--> open
open --(cooldown elapsed; exactly one caller wins the trial lease)--> half_open
half_open --(trial succeeds)--> closed,  --(trial fails)--> open
A trial whose holder died expires after ``trial_lease`` seconds and is offered again.

Every transition is one conditional UPDATE, so concurrent processes cannot
both win it; a breaker object holds no state of its own and never resets
the shared one.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from airflow_spof.core.state import (
    Health,
    StateStore,
    _insert_ignoring_race,
    breakers,
    read_health,
)


class BreakerState(str, enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = 3
    cooldown: float = 30.0
    trial_lease: float = 60.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if self.cooldown < 0 or self.trial_lease <= 0:
            raise ValueError("cooldown must be >= 0 and trial_lease > 0")


@dataclass(frozen=True)
class BreakerStatus:
    endpoint: str
    state: BreakerState
    consecutive_failures: int = 0
    opened_at: float | None = None
    trial_until: float | None = None
    last_failure_at: float | None = None
    last_error: str | None = None

    def reopens_in(self, policy: BreakerPolicy, now: float | None = None) -> float:
        """Seconds until an open breaker offers its half-open trial (0 when due)."""
        if self.state is not BreakerState.OPEN or self.opened_at is None:
            return 0.0
        return max(0.0, self.opened_at + policy.cooldown - (now or time.time()))

    @classmethod
    def from_row(cls, row: Any) -> BreakerStatus:
        return cls(
            endpoint=row["endpoint"],
            state=BreakerState(row["state"]),
            consecutive_failures=row["consecutive_failures"],
            opened_at=row["opened_at"],
            trial_until=row["trial_until"],
            last_failure_at=row["last_failure_at"],
            last_error=row["last_error"],
        )


class Admission(enum.Enum):
    """The breaker's answer to "may I call this endpoint now?"."""

    ALLOWED = "allowed"  # closed: call freely
    TRIAL = "trial"  # half-open: this caller holds the single trial
    REJECTED = "rejected"  # open, or another caller holds the trial

    @property
    def admitted(self) -> bool:
        return self is not Admission.REJECTED


_SELECT_STATUSES = sa.select(breakers).where(
    breakers.c.endpoint.in_(sa.bindparam("names", expanding=True))
)


def read_statuses(conn: Connection, endpoints: list[str]) -> dict[str, BreakerStatus]:
    """Every endpoint's breaker; those without a row are closed and clean."""
    rows = conn.execute(_SELECT_STATUSES, {"names": endpoints}).mappings()
    found = {r["endpoint"]: BreakerStatus.from_row(r) for r in rows}
    return {ep: found.get(ep) or BreakerStatus(ep, BreakerState.CLOSED) for ep in endpoints}


class CircuitBreakers:
    """Breakers for any number of endpoints, all sharing one store and policy."""

    def __init__(self, store: StateStore, policy: BreakerPolicy | None = None) -> None:
        self.store = store
        self.policy = policy or BreakerPolicy()

    def statuses(self, endpoints: list[str]) -> dict[str, BreakerStatus]:
        """Current state of each endpoint's breaker; unknown endpoints are closed."""
        return self.store.run(lambda conn: read_statuses(conn, endpoints), {})

    def snapshot(self, endpoints: list[str]) -> tuple[dict[str, BreakerStatus], dict[str, Health]]:
        """Breakers and probe health in one transaction: the read path's only query."""
        empty: tuple[dict[str, BreakerStatus], dict[str, Health]] = ({}, {})
        return self.store.run(
            lambda conn: (read_statuses(conn, endpoints), read_health(conn, endpoints)), empty
        )

    def all_statuses(self) -> list[BreakerStatus]:
        query = sa.select(breakers).order_by(breakers.c.endpoint)
        return self.store.run(
            lambda conn: [BreakerStatus.from_row(r) for r in conn.execute(query).mappings()], []
        )

    def admit(self, endpoint: str, status: BreakerStatus | None = None) -> Admission:
        """Decide whether to call ``endpoint``; pass a fresh ``status`` to save a query."""
        if status is None:
            status = self.statuses([endpoint]).get(endpoint)
        if status is None or status.state is BreakerState.CLOSED:
            return Admission.ALLOWED
        now = time.time()
        if status.state is BreakerState.OPEN:
            if status.reopens_in(self.policy, now) > 0:
                return Admission.REJECTED
            claim = (
                sa.update(breakers)
                .where(breakers.c.endpoint == endpoint)
                .where(breakers.c.state == BreakerState.OPEN.value)
                .where(breakers.c.opened_at <= now - self.policy.cooldown)
            )
        else:
            if status.trial_until is not None and status.trial_until > now:
                return Admission.REJECTED
            claim = (
                sa.update(breakers)
                .where(breakers.c.endpoint == endpoint)
                .where(breakers.c.state == BreakerState.HALF_OPEN.value)
                .where(breakers.c.trial_until < now)
            )
        claim = claim.values(
            state=BreakerState.HALF_OPEN.value,
            trial_until=now + self.policy.trial_lease,
            updated_at=now,
        )
        # Fail open: with no store there is no shared breaker, so let the call through.
        won = self.store.run(lambda conn: conn.execute(claim).rowcount == 1, True)
        return Admission.TRIAL if won else Admission.REJECTED

    def record_success(self, endpoint: str, status: BreakerStatus | None = None) -> None:
        """Close the breaker; skip the write when it is already closed and clean."""
        if status is None:
            status = self.statuses([endpoint]).get(endpoint)
        if status is None or (
            status.state is BreakerState.CLOSED and not status.consecutive_failures
        ):
            return
        query = (
            sa.update(breakers)
            .where(breakers.c.endpoint == endpoint)
            .values(
                state=BreakerState.CLOSED.value,
                consecutive_failures=0,
                opened_at=None,
                trial_until=None,
                updated_at=time.time(),
            )
        )
        self.store.run(lambda conn: conn.execute(query), None)

    def record_failure(self, endpoint: str, error: str = "") -> bool:
        """Count a transient failure; return True when this call opened the breaker."""
        now = time.time()
        threshold = self.policy.failure_threshold

        def work(conn: Connection) -> bool:
            bumped = conn.execute(
                sa.update(breakers)
                .where(breakers.c.endpoint == endpoint)
                .values(
                    consecutive_failures=breakers.c.consecutive_failures + 1,
                    last_failure_at=now,
                    last_error=error[:500],
                    updated_at=now,
                )
            ).rowcount
            if not bumped:
                _insert_ignoring_race(
                    conn,
                    breakers,
                    {
                        "endpoint": endpoint,
                        "state": BreakerState.CLOSED.value,
                        "consecutive_failures": 1,
                        "last_failure_at": now,
                        "last_error": error[:500],
                        "updated_at": now,
                    },
                )
            opened = conn.execute(
                sa.update(breakers)
                .where(breakers.c.endpoint == endpoint)
                .where(
                    sa.or_(
                        breakers.c.state == BreakerState.HALF_OPEN.value,
                        sa.and_(
                            breakers.c.state == BreakerState.CLOSED.value,
                            breakers.c.consecutive_failures >= threshold,
                        ),
                    )
                )
                .values(state=BreakerState.OPEN.value, opened_at=now, trial_until=None)
            ).rowcount
            return opened == 1

        return self.store.run(work, False)

    def reset(self, endpoint: str) -> None:
        """Forget an endpoint's breaker (operator action, not done implicitly)."""
        self.store.run(
            lambda conn: conn.execute(sa.delete(breakers).where(breakers.c.endpoint == endpoint)),
            None,
        )
