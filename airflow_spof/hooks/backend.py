"""One small protocol between the resilience core and the wire.

Failover and replication never ask what kind of endpoint they hold: object
stores (S3, filesystem) move bytes by key, table stores (SQL) move rows by
primary key. Each backend module registers a factory for its endpoint kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from airflow_spof.core.endpoints import Endpoint
from airflow_spof.core.replication import WriteAck

Row = dict[str, Any]


class Rows(list[Row]):
    """A query's rows and its column names, which a result without rows still has."""

    def __init__(self, columns: Iterable[str], rows: Iterable[Row] = ()) -> None:
        super().__init__(rows)
        self.columns = tuple(columns)


@dataclass(frozen=True)
class Timeouts:
    """Per-operation limits a backend enforces itself (socket, statement)."""

    connect: float = 5.0
    read: float = 30.0


@runtime_checkable
class ObjectBackend(Protocol):
    """Bytes under keys: S3 buckets, directories. Checksums are hex SHA-256 of content."""

    endpoint: Endpoint
    secrets: tuple[str, ...]  # credentials this backend holds, scrubbed from every message

    def probe(self) -> None:
        """Raise unless the endpoint answers (bucket reachable, directory writable)."""

    def read(self, key: str) -> Iterator[bytes]:
        """Stream an object's bytes; the content is verified against its stored checksum."""

    def write(self, key: str, chunks: Iterable[bytes]) -> WriteAck:
        """Store the chunks atomically under ``key`` and return the verified checksum."""

    def checksum(self, key: str) -> str | None:
        """The stored content checksum, or None when the object does not exist."""

    def inventory(self, prefix: str = "") -> dict[str, str]:
        """Every key under ``prefix`` with its checksum (for anti-entropy)."""


@runtime_checkable
class TableBackend(Protocol):
    """Rows keyed by a primary key: SQL tables."""

    endpoint: Endpoint
    secrets: tuple[str, ...]

    def probe(self) -> None:
        """Raise unless the database answers ``SELECT 1``."""

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Rows:
        """Run a read-only query and return its rows, with its columns."""

    def upsert(self, rows: Iterable[Row]) -> WriteAck:
        """Insert or update rows by key in one transaction; verified by count and checksum."""

    def fingerprints(self) -> dict[tuple[Any, ...], str]:
        """Key -> content hash of every row (for anti-entropy)."""

    def fetch(self, keys: Sequence[tuple[Any, ...]]) -> list[Row]:
        """The full rows for ``keys``."""

    def delete(self, keys: Sequence[tuple[Any, ...]]) -> int:
        """Remove rows by key (repair of rows that must not be there)."""


Backend = ObjectBackend | TableBackend
BackendFactory = Callable[[Endpoint, Timeouts], Backend]

_factories: dict[str, BackendFactory] = {}


def register_backend(kind: str) -> Callable[[BackendFactory], BackendFactory]:
    """Class decorator: ``@register_backend("s3")`` makes ``open_backend`` build it."""

    def decorate(factory: BackendFactory) -> BackendFactory:
        _factories[kind] = factory
        return factory

    return decorate


def open_backend(endpoint: Endpoint, timeouts: Timeouts | None = None) -> Backend:
    """The backend for an endpoint, imported on first use of its kind."""
    if endpoint.kind not in _factories:
        __import__(f"airflow_spof.hooks.{endpoint.kind}_backend")
    return _factories[endpoint.kind](endpoint, timeouts or Timeouts())
