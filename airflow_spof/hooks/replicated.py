"""ReplicatedHook: one replica set, written W-of-N and read with failover.

Usable on its own inside ``@task`` functions; the operators are thin
wrappers around it. Every outcome lands in the shared state store as an
event (what served, what lagged, what opened), which the Resilience page
and the CLI read.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain
from pathlib import Path
from typing import IO, Any

from airflow.sdk import BaseHook

from airflow_spof import metrics
from airflow_spof.core.endpoints import Endpoint, Replicas
from airflow_spof.core.errors import ErrorClass, describe, register_type
from airflow_spof.core.failover import FailoverPolicy, Validator, failover
from airflow_spof.core.fanout import Chunk, FanOut
from airflow_spof.core.replication import ConsistencyNotReached, WriteAck, replicate
from airflow_spof.core.reports import FailoverReport, ReplicationReport
from airflow_spof.core.retry import Abandoned, AttemptTimeout, abandoned
from airflow_spof.core.state import StateStore
from airflow_spof.hooks.backend import (
    Backend,
    ObjectBackend,
    Row,
    Rows,
    TableBackend,
    Timeouts,
    open_backend,
)
from airflow_spof.hooks.objects import clean_key
from airflow_spof.hooks.repair import RepairReport, repair
from airflow_spof.hooks.shared_digest import DigestedChunks, SharedDigest
from airflow_spof.hooks.sql_rows import SharedRows, batches
from airflow_spof.settings import SpofSettings, circuit_breakers, state_store

log = logging.getLogger(__name__)

CHUNK_SIZE = 8 * 1024 * 1024
ROW_FANOUT_BATCH = 1000
"""Rows per fan-out item when a one-shot iterable is written to table replicas."""
Payload = bytes | str | Path | IO[bytes] | Iterable[bytes]

# Too few replicas took a write: another source would not change that.
register_type(ConsistencyNotReached, ErrorClass.PERMANENT)


class ReplicatedHook(BaseHook):
    """Read and write one :class:`Replicas` set through its backends.

    :param replicas: the replica set (its order is the read order).
    :param store: shared state store; default from the ``[spof]`` config.
    :param failover_policy: retries, deadline and hedging for reads.
    :param timeouts: socket/statement limits each backend enforces.
    :param event_context: dag_id/run_id/task_id/map_index stamped on events.
    """

    hook_name = "Replicated (airflow-spof)"

    def __init__(
        self,
        replicas: Replicas,
        *,
        store: StateStore | None = None,
        failover_policy: FailoverPolicy | None = None,
        timeouts: Timeouts | None = None,
        straggler_timeout: float | None = None,
        event_context: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        settings = SpofSettings.load()
        self.replicas = replicas
        self.store = store or state_store(settings.state_store_url)
        self.breakers = circuit_breakers(self.store)
        self.failover_policy = failover_policy or settings.failover
        self.timeouts = timeouts or Timeouts()
        self.straggler_timeout = (
            settings.straggler_timeout if straggler_timeout is None else straggler_timeout
        )
        self.event_context = dict(event_context) if event_context is not None else _task_identity()
        self._backends: dict[str, Backend] = {}

    # -- plumbing ---------------------------------------------------------------

    def backend(self, endpoint: Endpoint) -> Backend:
        if endpoint.name not in self._backends:
            self._backends[endpoint.name] = open_backend(endpoint, self.timeouts)
        return self._backends[endpoint.name]

    def _object_backend(self, endpoint: Endpoint) -> ObjectBackend:
        backend = self.backend(endpoint)
        if not isinstance(backend, ObjectBackend) or isinstance(backend, TableBackend):
            raise TypeError(f"{endpoint.name} holds tables, not objects")
        return backend

    def _table_backend(self, endpoint: Endpoint) -> TableBackend:
        backend = self.backend(endpoint)
        if not isinstance(backend, TableBackend):
            raise TypeError(f"{endpoint.name} holds objects, not tables")
        return backend

    @property
    def secrets(self) -> list[str]:
        """Credentials of every backend opened so far, for scrubbing messages."""
        return [s for b in self._backends.values() for s in b.secrets if s]

    def _event(
        self, kind: str, endpoint: str | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        self.store.add_event(
            kind,
            detail=detail,
            replica_set=self.replicas.name,
            endpoint=endpoint,
            **self.event_context,
        )

    def _open_all(self) -> None:
        for endpoint in self.replicas:
            try:
                self.backend(endpoint)
            except Exception as exc:  # an unreachable connection is an outage, found at use
                log.warning("could not prepare %s: %s", endpoint.name, type(exc).__name__)

    # -- writes -------------------------------------------------------------------

    def write(self, key: str, payload: Payload) -> ReplicationReport:
        """Stream ``payload`` once to every object replica; succeed at the set's consistency.

        The payload is read and hashed once; each replica verifies its copy against that hash.
        The key is normalised first (``a//b`` is ``a/b``), so hints name the key that
        inventories and repair see; an invalid key fails here, before any replica is asked.
        """
        key = clean_key(key, self.replicas.name)
        self._open_all()
        digest = SharedDigest()
        return self._replicate_stream(
            digest.feed(_chunks(payload)),
            lambda ep, chunks: self._object_backend(ep).write(key, DigestedChunks(chunks, digest)),
            item=key,
        )

    def write_rows(self, rows: Iterable[Row] | Any, item: str = "rows") -> ReplicationReport:
        """Upsert rows (a list of dicts, a DataFrame or any iterable of dicts) into every table
        replica.

        A list or DataFrame is read by every replica, with the checksum of what is sent
        computed once; each replica checks its read-back against it. Any other iterable
        may be one-shot (a generator, a cursor), so it is read once and its batches fanned
        out to the replicas, like an object payload.
        """
        self._open_all()
        if SharedRows.accepts(rows):
            shared = SharedRows(rows)
            return self._replicate(lambda ep: self._table_backend(ep).upsert(shared), item=item)
        return self._replicate_stream(
            batches(rows, ROW_FANOUT_BATCH),
            lambda ep, stream: self._table_backend(ep).upsert(chain.from_iterable(stream)),
            item=item,
        )

    def _replicate_stream(
        self,
        source: Iterable[Chunk],
        write: Callable[[Endpoint, Iterator[Chunk]], WriteAck],
        item: str,
    ) -> ReplicationReport:
        """Read ``source`` once and feed it to every replica's ``write`` in parallel."""
        index = {ep.name: i for i, ep in enumerate(self.replicas)}
        fan = FanOut(source, consumers=len(self.replicas))

        def write_one(endpoint: Endpoint) -> WriteAck:
            try:
                return write(endpoint, fan.stream(index[endpoint.name]))
            finally:
                fan.abandon(index[endpoint.name])

        try:
            return self._replicate(write_one, item=item)
        except ConsistencyNotReached:
            if fan.source_error is not None:
                # The source broke, not the replicas: let failover judge the source's error.
                raise fan.source_error from None
            raise

    def _replicate(self, write: Any, item: str) -> ReplicationReport:
        try:
            report = replicate(
                self.replicas,
                write,
                item=item,
                store=self.store,
                straggler_timeout=self.straggler_timeout,
                secrets=self.secrets,
            )
        except ConsistencyNotReached as exc:
            self._event("write_failed", detail=exc.report.to_dict())
            raise
        self._event("degraded" if report.degraded else "replicated", detail=report.to_dict())
        return report

    # -- reads --------------------------------------------------------------------

    def read(self, key: str, validator: Validator | None = None) -> tuple[bytes, FailoverReport]:
        """The object's bytes from the first healthy replica that returns valid data."""
        return self._failover(lambda ep: b"".join(self._object_backend(ep).read(key)), validator)

    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        validator: Validator | None = None,
    ) -> tuple[Rows, FailoverReport]:
        """Run a read-only query on the first healthy table replica."""
        return self._failover(lambda ep: self._table_backend(ep).query(sql, parameters), validator)

    def copy_to(
        self, key: str, destination: ReplicatedHook, destination_key: str | None = None
    ) -> tuple[ReplicationReport, FailoverReport]:
        """Stream one object from the first healthy source into every destination replica,
        under ``destination_key`` (default: the same key).

        A source that breaks mid-stream aborts every destination write (no
        partial object is committed) and the next source is tried; so does an
        attempt abandoned at its timeout or beaten by a hedged one, so that it cannot
        land after the copy that was reported.
        """
        target = key if destination_key is None else destination_key

        def copy_from(endpoint: Endpoint) -> ReplicationReport:
            gave_up = abandoned()
            chunks = self._object_backend(endpoint).read(key)
            return destination.write(target, _until(gave_up, chunks, endpoint.name))

        return self._failover(copy_from)

    def _failover(
        self, call: Any, validator: Validator | None = None
    ) -> tuple[Any, FailoverReport]:
        return failover(
            list(self.replicas),
            call,
            breakers=self.breakers,
            policy=self.failover_policy,
            validator=validator,
            secrets=self.secrets,
            on_event=self._on_failover_event,
        )

    def _on_failover_event(self, kind: str, endpoint: str | None, detail: dict[str, Any]) -> None:
        self._event(kind, endpoint=endpoint, detail=detail)
        if kind == "breaker_open" and endpoint:
            metrics.record_breaker_open(endpoint)

    # -- health, verification, repair ------------------------------------------------

    def probe(self) -> dict[str, dict[str, Any]]:
        """Probe every replica and record its health for the failover path to use."""
        results: dict[str, dict[str, Any]] = {}
        for endpoint in self.replicas:
            started = time.monotonic()
            try:
                self.backend(endpoint).probe()
                healthy, detail = True, "ok"
            except Exception as exc:
                healthy, detail = False, describe(exc, self.secrets)
            latency = (time.monotonic() - started) * 1000
            self.store.record_health(endpoint.name, healthy, latency, detail)
            results[endpoint.name] = {
                "healthy": healthy,
                "latency_ms": round(latency, 3),
                "detail": detail,
            }
        return results

    def checksums(self, key: str) -> dict[str, str | None]:
        """Each object replica's checksum of ``key`` (None: missing; error text: unreachable)."""
        found: dict[str, str | None] = {}
        for endpoint in self.replicas:
            try:
                found[endpoint.name] = self._object_backend(endpoint).checksum(key)
            except Exception as exc:
                found[endpoint.name] = f"unreachable: {type(exc).__name__}"
        return found

    def repair(self, prefix: str = "") -> RepairReport:
        """Drain this set's hints and run anti-entropy; converged replicas are identical."""
        hints = self.store.pending_hints(self.replicas.name)
        backends: dict[str, Backend] = {}
        for endpoint in self.replicas:
            try:
                backends[endpoint.name] = self.backend(endpoint)
            except Exception:
                continue
        reachable = [ep for ep in self.replicas if ep.name in backends]
        report, settled = repair(
            self.replicas.name, backends, reachable, hints, prefix=prefix, secrets=self.secrets
        )
        for endpoint in self.replicas:
            if endpoint.name not in backends:
                report.unreachable[endpoint.name] = "connection could not be prepared"
        self.store.resolve_hints(settled)
        self._event("repair", detail=report.to_dict())
        return report


def _task_identity() -> dict[str, Any]:
    """dag_id/run_id/task_id/map_index of the running task, or nothing outside a task."""
    try:
        from airflow.sdk import get_current_context

        ti = get_current_context()["ti"]
    except Exception:  # not inside a task (scripts, CLI, tests of the hook alone)
        return {}
    map_index = getattr(ti, "map_index", -1)
    return {
        "dag_id": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        "map_index": None if map_index in (None, -1) else map_index,
    }


def _until(gave_up: Abandoned, chunks: Iterable[bytes], source: str) -> Iterator[bytes]:
    """``chunks``, unless the attempt was abandoned: then the stream breaks before its end,
    which aborts every replica write instead of letting a late copy commit."""
    for chunk in chunks:
        if gave_up.is_set():
            break
        yield chunk
    if gave_up.is_set():
        raise AttemptTimeout(
            f"copy from {source} abandoned: its attempt timed out or another source answered"
        )


def _chunks(payload: Payload, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Any payload as a stream of chunks, never loading a file or stream whole."""
    if isinstance(payload, str):
        payload = payload.encode()
    if isinstance(payload, bytes):
        for start in range(0, max(len(payload), 1), size):
            yield payload[start : start + size]
        return
    if isinstance(payload, Path):
        with payload.open("rb") as handle:
            yield from iter(lambda: handle.read(size), b"")
        return
    if isinstance(payload, io.IOBase) or hasattr(payload, "read"):
        yield from iter(lambda: payload.read(size), b"")
        return
    yield from payload
