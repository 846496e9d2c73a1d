"""Shared state (breakers, endpoint health, hints, events) on SQLAlchemy Core.

Airflow 3 workers cannot touch the metadata database, so every process that
must agree on a breaker or a hint meets here: a SQLite file on one machine,
PostgreSQL when workers are spread out. The store must never become a new
single point of failure: when it is unreachable every call fails open, and
callers learn so through :attr:`StateStore.available`. A statement the store
rejects (a table changed under it, a constraint) fails that one call open,
logged, and leaves the store available to every other call.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from airflow_spof.core.errors import describe

log = logging.getLogger(__name__)
T = TypeVar("T")

STATE_URL_ENV = "AIRFLOW__SPOF__STATE_STORE_URL"

metadata = sa.MetaData()

breakers = sa.Table(
    "spof_breakers",
    metadata,
    sa.Column("endpoint", sa.String(512), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False, default="closed"),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("opened_at", sa.Float, nullable=True),
    sa.Column("trial_until", sa.Float, nullable=True),
    sa.Column("last_failure_at", sa.Float, nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("updated_at", sa.Float, nullable=False),
)

health = sa.Table(
    "spof_health",
    metadata,
    sa.Column("endpoint", sa.String(512), primary_key=True),
    sa.Column("healthy", sa.Boolean, nullable=False),
    sa.Column("checked_at", sa.Float, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=True),
    sa.Column("detail", sa.String(500), nullable=True),
)

hints = sa.Table(
    "spof_hints",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("replica_set", sa.String(512), nullable=False),
    sa.Column("endpoint", sa.String(512), nullable=False),
    sa.Column("item", sa.String(1024), nullable=False),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    # Bumped by every further miss of the item; repair settles only the version it read.
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.UniqueConstraint("replica_set", "endpoint", "item", name="uq_spof_hint"),
)

events = sa.Table(
    "spof_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.Float, nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("dag_id", sa.String(250), nullable=True, index=True),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.Column("task_id", sa.String(250), nullable=True),
    sa.Column("map_index", sa.Integer, nullable=True),
    sa.Column("replica_set", sa.String(512), nullable=True),
    sa.Column("endpoint", sa.String(512), nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
)


@dataclass(frozen=True)
class Hint:
    """A replica that missed a write of ``item`` and must be repaired."""

    id: int
    replica_set: str
    endpoint: str
    item: str
    reason: str | None
    created_at: float
    version: int = 1


@dataclass(frozen=True)
class Health:
    endpoint: str
    healthy: bool
    checked_at: float
    latency_ms: float | None = None
    detail: str | None = None


def default_state_url() -> str:
    """The configured store URL, else a SQLite file next to Airflow's own home."""
    url = os.environ.get(STATE_URL_ENV)
    if url:
        return url
    home = Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow"))
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'spof_state.db'}"


def create_state_engine(url: str, connect_timeout: float = 2.0) -> Engine:
    """An engine tuned for short, concurrent transactions from many processes."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args = {
            "connect_timeout": max(1, int(connect_timeout)),
            "options": f"-c statement_timeout={int(connect_timeout * 1000)}",
        }
    elif parsed.get_backend_name() in ("mysql", "mariadb"):
        connect_args = {"connect_timeout": max(1, int(connect_timeout))}
    return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)


class StateStore:
    """Fail-open access to the shared state.

    After a failure the store is not asked again for ``retry_after`` seconds,
    so a dead store costs one timeout per window, not one per call.
    """

    def __init__(self, engine: Engine, retry_after: float = 5.0) -> None:
        self.engine = engine
        self.retry_after = retry_after
        self._down_until = 0.0
        self._schema_ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str | None = None, **kwargs: Any) -> StateStore:
        return cls(create_state_engine(url or default_state_url()), **kwargs)

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def ensure_schema(self) -> None:
        if not self._schema_ready:
            with self._lock:
                if not self._schema_ready:
                    metadata.create_all(self.engine, checkfirst=True)
                    _add_hint_version(self.engine)
                    self._schema_ready = True

    def run(self, work: Callable[[Connection], T], default: T) -> T:
        """Run ``work`` in one transaction; on any store failure return ``default``.

        Only a store that cannot be reached is left alone for ``retry_after``: one
        rejected statement says nothing about the calls of other tasks.
        """
        if not self.available:
            return default
        try:
            self.ensure_schema()
            with self.engine.begin() as conn:
                return work(conn)
        except SQLAlchemyError as exc:
            if not _unreachable(exc):
                log.error(
                    "spof state store rejected a statement, continuing without it: %s",
                    describe(exc),
                )
                return default
            self._down_until = time.monotonic() + self.retry_after
            log.warning(
                "spof state store unavailable, continuing without it: %s", type(exc).__name__
            )
            return default

    def dispose(self) -> None:
        self.engine.dispose()

    # -- health ---------------------------------------------------------------

    def record_health(
        self,
        endpoint: str,
        healthy: bool,
        latency_ms: float | None = None,
        detail: str | None = None,
    ) -> bool:
        values = {
            "healthy": healthy,
            "checked_at": time.time(),
            "latency_ms": latency_ms,
            "detail": (detail or "")[:500] or None,
        }

        def work(conn: Connection) -> bool:
            updated = conn.execute(
                sa.update(health).where(health.c.endpoint == endpoint).values(**values)
            ).rowcount
            if not updated:
                _insert_ignoring_race(conn, health, {"endpoint": endpoint, **values})
            return True

        return self.run(work, False)

    def health_of(self, endpoints: Iterable[str]) -> dict[str, Health]:
        names = list(endpoints)
        return self.run(lambda conn: read_health(conn, names), {})

    # -- hints ----------------------------------------------------------------

    def add_hint(self, replica_set: str, endpoint: str, item: str, reason: str = "") -> bool:
        """Record that ``endpoint`` missed a write of ``item``.

        A further miss of the same item bumps the existing hint's version (its
        ``created_at`` stays the oldest miss), so a repair that read the older version
        cannot settle this one.
        """
        key = (
            (hints.c.replica_set == replica_set)
            & (hints.c.endpoint == endpoint)
            & (hints.c.item == item)
        )
        row = {
            "replica_set": replica_set,
            "endpoint": endpoint,
            "item": item,
            "reason": reason[:500],
            "created_at": time.time(),
        }
        bump = sa.update(hints).where(key).values(version=hints.c.version + 1, reason=row["reason"])

        def work(conn: Connection) -> bool:
            if not conn.execute(bump).rowcount and not _insert_ignoring_race(conn, hints, row):
                conn.execute(bump)  # another process inserted it first
            return True

        return self.run(work, False)

    def pending_hints(self, replica_set: str | None = None) -> list[Hint]:
        query = sa.select(hints).order_by(hints.c.id)
        if replica_set is not None:
            query = query.where(hints.c.replica_set == replica_set)
        return self.run(lambda conn: [Hint(**r) for r in conn.execute(query).mappings()], [])

    def resolve_hints(self, settled: Iterable[Hint]) -> int:
        """Delete hints a repair acted on, unless a write missed their item again since the
        repair read them (a newer version): that miss still needs repairing."""
        found = list(settled)

        def work(conn: Connection) -> int:
            return sum(
                conn.execute(
                    sa.delete(hints).where(hints.c.id == h.id, hints.c.version == h.version)
                ).rowcount
                for h in found
            )

        return self.run(work, 0) if found else 0

    # -- events ---------------------------------------------------------------

    def add_event(self, kind: str, detail: dict[str, Any] | None = None, **fields: Any) -> bool:
        """Record what happened; when the store is down the event goes to the log instead."""
        row = {
            "ts": time.time(),
            "kind": kind,
            "detail": json.dumps(detail or {}, default=str),
            **{
                k: fields.get(k)
                for k in ("dag_id", "run_id", "task_id", "map_index", "replica_set", "endpoint")
            },
        }

        def work(conn: Connection) -> bool:
            conn.execute(sa.insert(events).values(**row))
            return True

        stored = self.run(work, False)
        if not stored:
            log.warning("spof event (state store unavailable): %s", json.dumps(row, default=str))
        return stored

    def recent_events(self, limit: int = 100, **filters: Any) -> list[dict[str, Any]]:
        query = sa.select(events).order_by(events.c.ts.desc(), events.c.id.desc()).limit(limit)
        for column, value in filters.items():
            if value is not None:
                query = query.where(events.c[column] == value)

        def work(conn: Connection) -> list[dict[str, Any]]:
            rows = [dict(r) for r in conn.execute(query).mappings()]
            for row in rows:
                row["detail"] = json.loads(row["detail"] or "{}")
            return rows

        return self.run(work, [])


_SQLITE_ERROR = 1  # SQLite's generic result code: bad SQL, a missing table or column
_MYSQL_BUSY_OR_GONE = frozenset({1040, 1053, 1077, 1205})
"""Server errors meaning "not now": too many connections, shutting down, normal shutdown,
lock wait timeout. Client-side errors (2000-2999: cannot connect, server gone, lost
connection) mean the same; PyMySQL reports every other server error unknown to it, a bad
column included, as OperationalError too."""


def _unreachable(exc: SQLAlchemyError) -> bool:
    """Whether ``exc`` means the store cannot be reached now (refused, lost, timed out, busy)
    rather than that it answered and rejected one statement."""
    if isinstance(exc, (sa.exc.DisconnectionError, sa.exc.TimeoutError)):
        return True
    if not isinstance(exc, sa.exc.DBAPIError):
        return False  # the statement could not even be built: nothing reached the store
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        return False
    # SQLite raises OperationalError for statements it rejects too; busy, locked, I/O and
    # cannot-open errors have result codes of their own.
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF != _SQLITE_ERROR
    if exc.orig is not None and type(exc.orig).__module__.startswith("pymysql"):
        errno = exc.orig.args[0] if exc.orig.args else None
        return not isinstance(errno, int) or errno >= 2000 or errno in _MYSQL_BUSY_OR_GONE
    return True


_SELECT_HEALTH = sa.select(health).where(
    health.c.endpoint.in_(sa.bindparam("names", expanding=True))
)


def read_health(conn: Connection, endpoints: list[str]) -> dict[str, Health]:
    rows = conn.execute(_SELECT_HEALTH, {"names": endpoints}).mappings()
    return {row["endpoint"]: Health(**row) for row in rows}


def _insert_ignoring_race(conn: Connection, table: sa.Table, row: dict[str, Any]) -> bool:
    """Insert a row unless another process inserted the same key first; True if inserted."""
    try:
        with conn.begin_nested():
            conn.execute(sa.insert(table).values(**row))
    except IntegrityError:
        return False
    return True


def _add_hint_version(engine: Engine) -> None:
    """Give a hints table created before hints had versions its ``version`` column."""
    if "version" in {c["name"] for c in sa.inspect(engine).get_columns(hints.name)}:
        return
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"ALTER TABLE {hints.name} ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
        )
