"""Fault injection that every backend honours, for drills and tests.

A fault is ``SELECTOR=KIND`` where SELECTOR is an endpoint name,
``conn:<conn_id>`` or ``region:<region>``, and KIND is one of
``down`` (connection refused), ``hang`` (no answer until the operation's
timeout), ``slow:<seconds>s`` (fixed delay, then normal), ``error``
(transient 5xx-like error) or ``corrupt`` (data altered so verification or
the quality gate must catch it).

Faults come from, in order: :func:`inject` (a context manager for tests),
the ``AIRFLOW_SPOF_FAULTS`` environment variable (``;``-separated), and the
Airflow Variable ``spof_faults`` (for drills on a running deployment).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from airflow_spof.core.endpoints import Endpoint
from airflow_spof.core.errors import TransientError

FAULTS_ENV = "AIRFLOW_SPOF_FAULTS"
FAULTS_VARIABLE = "spof_faults"
KINDS = ("down", "hang", "slow", "error", "corrupt")
_VARIABLE_TTL = 10.0

log = logging.getLogger(__name__)


class FaultSyntaxError(ValueError):
    """A fault specification that cannot be understood."""


class InjectedFault(TransientError):
    """A transient failure raised on purpose by a drill."""


class InjectedRefusal(ConnectionRefusedError):
    """A connection refused on purpose by a drill (the ``down`` fault)."""


class InjectedHang(TimeoutError):
    """An operation that got no answer before its timeout (the ``hang`` fault)."""


@dataclass(frozen=True)
class Fault:
    selector: str
    kind: str
    delay: float = 0.0

    def matches(self, endpoint: Endpoint) -> bool:
        return self.selector in (
            endpoint.name,
            f"conn:{endpoint.conn_id}",
            f"region:{endpoint.region}",
        )

    def __str__(self) -> str:
        return (
            f"{self.selector}=slow:{self.delay:g}s"
            if self.kind == "slow"
            else f"{self.selector}={self.kind}"
        )


_SLOW = re.compile(r"^slow:(?P<secs>\d+(?:\.\d+)?)(?P<unit>ms|s)?$")


def parse_fault(spec: str) -> Fault:
    """Parse ``SELECTOR=KIND``; raise :class:`FaultSyntaxError` with the accepted forms."""
    selector, sep, kind = spec.strip().rpartition("=")
    selector, kind = selector.strip(), kind.strip().lower()
    if not sep or not selector:
        raise FaultSyntaxError(
            f"bad fault {spec!r}: expected SELECTOR=KIND, e.g. region:us-east-1=down"
        )
    slow = _SLOW.match(kind)
    if slow:
        delay = float(slow["secs"]) / (1000 if slow["unit"] == "ms" else 1)
        return Fault(selector, "slow", delay)
    if kind not in KINDS or kind == "slow":
        raise FaultSyntaxError(
            f"bad fault kind {kind!r} in {spec!r}: use down, hang, slow:<N>s, error or corrupt"
        )
    return Fault(selector, kind)


def parse_faults(text: str | Iterable[str] | None) -> tuple[Fault, ...]:
    if not text:
        return ()
    specs = re.split(r"[;\n]", text) if isinstance(text, str) else list(text)
    return tuple(parse_fault(s) for s in specs if s.strip())


_injected: list[Fault] = []
_variable_cache: tuple[float, tuple[Fault, ...]] = (0.0, ())


@contextlib.contextmanager
def inject(*specs: str | Fault) -> Iterator[tuple[Fault, ...]]:
    """Apply faults for the duration of a ``with`` block (all threads of this process)."""
    faults = tuple(s if isinstance(s, Fault) else parse_fault(s) for s in specs)
    _injected.extend(faults)
    try:
        yield faults
    finally:
        for fault in faults:
            _injected.remove(fault)


def active_faults() -> tuple[Fault, ...]:
    return (*_injected, *parse_faults(os.environ.get(FAULTS_ENV)), *_variable_faults())


def _variable_faults() -> tuple[Fault, ...]:
    """Faults from the Airflow Variable, cached briefly: a drill flips it on a live system.

    A spec that does not parse injects nothing and is logged as an error at every
    fetch. Raising instead would fail every replicated read and write of the
    deployment over one typo in a drill setting: the drill tool itself would become
    the single point of failure. (``AIRFLOW_SPOF_FAULTS``, set per process for a
    drill or a test, stays strict.)
    """
    global _variable_cache
    fetched_at, faults = _variable_cache
    if time.monotonic() - fetched_at < _VARIABLE_TTL:
        return faults
    text: Any = None
    if os.environ.get("AIRFLOW__SPOF__CHAOS_VARIABLE", "true").lower() != "false":
        with contextlib.suppress(Exception):  # outside a task there is no Variable API
            from airflow.sdk import Variable

            text = Variable.get(FAULTS_VARIABLE, default=None)
    try:
        faults = parse_faults(text)
    except FaultSyntaxError as exc:
        log.error("Airflow Variable %s ignored, no fault injected: %s", FAULTS_VARIABLE, exc)
        faults = ()
    _variable_cache = (time.monotonic(), faults)
    return faults


def faults_for(endpoint: Endpoint) -> list[Fault]:
    return [f for f in active_faults() if f.matches(endpoint)]


def before(endpoint: Endpoint, operation: str, timeout: float | None = None) -> None:
    """Called by every backend before an operation; raises or delays as faults say."""
    for fault in faults_for(endpoint):
        if fault.kind == "down":
            raise InjectedRefusal(f"[chaos] {endpoint.name} refused {operation}: endpoint is down")
        if fault.kind == "error":
            raise InjectedFault(f"[chaos] {endpoint.name} answered {operation} with 503")
        if fault.kind == "slow":
            time.sleep(fault.delay)
        if fault.kind == "hang":
            time.sleep(timeout if timeout is not None else 3600.0)
            raise InjectedHang(f"[chaos] {endpoint.name}: no answer to {operation} in {timeout}s")


def corrupts(endpoint: Endpoint) -> bool:
    return any(f.kind == "corrupt" for f in faults_for(endpoint))


def corrupt_chunks(endpoint: Endpoint, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Flip one byte of the first chunk when a corrupt fault applies."""
    if not corrupts(endpoint):
        yield from chunks
        return
    first = True
    for chunk in chunks:
        if first and chunk:
            chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            first = False
        yield chunk


def corrupt_rows(endpoint: Endpoint, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Alter one value of the first row when a corrupt fault applies."""
    if not rows or not corrupts(endpoint):
        return rows
    damaged = [dict(r) for r in rows]
    first = damaged[0]
    numeric = [
        k for k, v in first.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    if numeric:
        first[numeric[-1]] = -first[numeric[-1]] - 1
    else:
        column = list(first)[-1]
        first[column] = f"corrupt:{first[column]}"
    return damaged
