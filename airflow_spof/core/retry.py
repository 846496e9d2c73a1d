"""Per-endpoint retries (tenacity) and a hard per-attempt timeout.

Backends set their own socket and statement timeouts; the attempt timeout is
the backstop for what they cannot bound (a stopped server holding an open
connection blocks a read forever).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import tenacity

from airflow_spof.core.errors import ErrorClass, classify

T = TypeVar("T")


class AttemptTimeout(TimeoutError):
    """An attempt did not finish within its time budget."""


class Abandoned:
    """Set once nobody waits any more for an attempt: its timeout passed, or (hedging)
    another attempt already won. Also set when an enclosing attempt's flag is set, so one
    check covers both reasons."""

    def __init__(self, enclosing: Abandoned | None = None) -> None:
        self._event = threading.Event()
        self._enclosing = enclosing

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set() or (self._enclosing is not None and self._enclosing.is_set())


_attempt = threading.local()
_NEVER = Abandoned()


def abandoned() -> Abandoned:
    """The flag of the attempt running on this thread.

    An abandoned attempt keeps running (see :func:`call_with_timeout`); work that
    would land somewhere, like a copy, checks this before committing, so a late
    thread cannot overwrite what another endpoint already delivered.
    """
    flag: Abandoned = getattr(_attempt, "abandoned", _NEVER)
    return flag


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one endpoint before moving to the next."""

    attempts: int = 2
    backoff: float = 0.05  # first wait, doubled each retry
    max_backoff: float = 2.0
    jitter: float = 0.05
    attempt_timeout: float | None = None

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.attempt_timeout is not None and self.attempt_timeout <= 0:
            raise ValueError("attempt_timeout must be positive")

    def retrying(self, deadline: float | None) -> tenacity.Retrying:
        """A tenacity loop that retries transient errors only, never past ``deadline``."""
        stop: tenacity.stop.stop_base = tenacity.stop_after_attempt(self.attempts)
        if deadline is not None:
            stop = stop | _StopAtDeadline(deadline)
        return tenacity.Retrying(
            stop=stop,
            wait=tenacity.wait_exponential(multiplier=self.backoff, max=self.max_backoff)
            + tenacity.wait_random(0, self.jitter),
            retry=tenacity.retry_if_exception(lambda e: classify(e) is ErrorClass.TRANSIENT),
            reraise=True,
        )


class _StopAtDeadline(tenacity.stop.stop_base):
    """Stop when the next wait would end past the overall deadline."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return time.monotonic() + (retry_state.upcoming_sleep or 0.0) >= self.deadline


def call_with_timeout(
    fn: Callable[[], T], timeout: float | None, abandon: Abandoned | None = None
) -> T:
    """Call ``fn``; raise :class:`AttemptTimeout` if it has not returned in ``timeout`` s.

    The call runs on a daemon thread that is abandoned on timeout: Python
    cannot interrupt a thread blocked in a socket read, and the task must
    move on to the next endpoint now rather than when the kernel gives up.
    ``abandon`` lets the caller abandon the call for its own reasons (a hedged
    attempt that lost); ``fn`` sees either reason through :func:`abandoned`.
    """
    gave_up = Abandoned(abandon)
    if timeout is None:
        previous = getattr(_attempt, "abandoned", _NEVER)
        _attempt.abandoned = gave_up
        try:
            return fn()
        finally:
            _attempt.abandoned = previous
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def runner() -> None:
        _attempt.abandoned = gave_up
        try:
            outcome["value"] = fn()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=runner, name="spof-attempt", daemon=True).start()
    if not done.wait(timeout):
        gave_up.set()
        raise AttemptTimeout(f"no answer within {timeout:.3g}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
