"""From an endpoint to a pooled engine: Airflow connection or URL, driver, timeouts, secrets.

Where the database is comes from, in order:

1. ``endpoint.options["url"]``, a SQLAlchemy URL;
2. ``endpoint.conn_id`` if it contains ``://`` (Airflow connection ids never
   do), also a SQLAlchemy URL — handy for SQLite files and trust-auth servers;
3. otherwise ``conn_id`` names an Airflow connection (conn_type ``postgres``,
   ``mysql``/``mariadb`` or ``sqlite``), resolved with ``BaseHook.get_connection``
   (so ``AIRFLOW_CONN_<ID>`` variables and secrets backends work).

A URL given in the DAG must not carry a password: it would show in the
endpoint name, task logs and the UI. Credentials belong in a connection,
whose password is masked in task logs and scrubbed from every message.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from airflow_spof.core.endpoints import Endpoint
from airflow_spof.hooks.sql_dialect import connect_args
from airflow_spof.hooks.sql_errors import SqlPermanentError, SqlTransientError

DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
}
# Connection extras passed on to libpq; anything else in the extras is Airflow's own.
_LIBPQ_EXTRAS = ("sslmode", "sslcert", "sslkey", "sslrootcert", "sslcrl", "application_name")


@dataclass(frozen=True)
class Target:
    """A database to connect to, and the credentials to keep out of every message."""

    url: sa.URL
    secrets: tuple[str, ...] = ()

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()


def resolve(endpoint: Endpoint) -> Target:
    """Find the database behind ``endpoint`` (see the module docstring for the rule)."""
    raw = endpoint.options.get("url")
    if raw is None and endpoint.conn_id and "://" in endpoint.conn_id:
        raw = endpoint.conn_id
    if raw is not None:
        return Target(_from_url(str(raw), endpoint.name))
    if not endpoint.conn_id:
        raise SqlPermanentError(f"{endpoint.name}: a sql endpoint needs a conn_id or a url")
    return connection_target(endpoint.conn_id, endpoint.name)


def _from_url(raw: str, where: str) -> sa.URL:
    try:
        url = sa.make_url(raw)
    except sa.exc.ArgumentError:
        raise SqlPermanentError(f"{where}: not a valid SQLAlchemy URL") from None
    if url.password:
        raise SqlPermanentError(
            f"{where}: the database URL carries a password, which would leak into names, "
            "logs and the UI; put the credentials in an Airflow connection and pass its conn_id"
        )
    backend = url.get_backend_name()
    if backend == "mariadb":
        backend = "mysql"
    if backend not in DRIVERS:
        raise SqlPermanentError(
            f"{where}: unsupported database {backend!r}; use postgresql, mysql/mariadb or sqlite"
        )
    return url.set(drivername=DRIVERS[backend]) if url.drivername in DRIVERS else url


def connection_target(conn_id: str, where: str) -> Target:
    """The database behind an Airflow connection (postgres, mysql/mariadb or sqlite)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException
    from airflow.sdk.log import mask_secret

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise SqlPermanentError(
            f"{where}: Airflow connection {conn_id!r} is not defined; create it in the UI or "
            f"set AIRFLOW_CONN_{conn_id.upper()}"
        ) from None
    except Exception as exc:  # a secrets backend that is down may come back
        raise SqlTransientError(
            f"{where}: could not look up connection {conn_id!r}: {type(exc).__name__}"
        ) from None
    password = conn.password or None
    if password:
        mask_secret(password)
    conn_type = (conn.conn_type or "").lower()
    if conn_type not in DRIVERS:
        raise SqlPermanentError(
            f"{where}: connection {conn_id!r} has conn_type {conn_type!r}; a sql endpoint needs "
            "postgres, mysql, mariadb or sqlite"
        )
    extras = conn.extra_dejson or {}
    if conn_type == "sqlite":
        path = conn.host or conn.schema
        if not path:
            raise SqlPermanentError(f"{where}: sqlite connection {conn_id!r} has no file path")
        return Target(sa.URL.create("sqlite", database=path))
    query: dict[str, str] = {}
    if conn_type in ("postgres", "postgresql"):
        query = {k: str(extras[k]) for k in _LIBPQ_EXTRAS if k in extras}
    else:
        query = {"charset": str(extras.get("charset", "utf8mb4"))}
    url = sa.URL.create(
        DRIVERS[conn_type],
        username=conn.login or None,
        password=password,
        host=conn.host or None,
        port=conn.port or None,
        database=conn.schema or None,
        query=query,
    )
    return Target(url, (password,) if password else ())


_engines: dict[tuple[Any, ...], Engine] = {}
_engines_lock = threading.Lock()


def engine_for(target: Target, connect_timeout: float, read_timeout: float) -> Engine:
    """One pooled engine per database, timeouts and process (pools must not cross a fork)."""
    key = (
        os.getpid(),
        target.url.render_as_string(hide_password=False),
        connect_timeout,
        read_timeout,
    )
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = sa.create_engine(
                target.url,
                connect_args=connect_args(target.dialect, connect_timeout, read_timeout),
                hide_parameters=True,  # row values stay out of error messages
                pool_pre_ping=False,  # a ping to a frozen server would hang unguarded
            )
            _engines[key] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection of this process (tests, benchmarks, shutdown)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


class Watchdog:
    """Cuts an operation's connection when it outlives its timeout.

    A SIGSTOPped PostgreSQL keeps its sockets open and its kernel answers
    keepalives, so neither ``statement_timeout`` nor TCP settings fire: a
    timer shuts the client socket down (SQLite: interrupts the statement),
    the blocked call fails at once, and the caller discards the connection.
    """

    def __init__(self, dbapi_connection: Any, timeout: float) -> None:
        self._abort = _aborter(dbapi_connection)
        self._lock = threading.Lock()
        self._armed = True
        self.fired = False
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._armed:
                self.fired = True
                with contextlib.suppress(Exception):
                    self._abort()

    def disarm(self) -> None:
        with self._lock:
            self._armed = False
        self._timer.cancel()


def _aborter(dbapi_connection: Any) -> Callable[[], None]:
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is not None:  # psycopg
        return lambda: _shutdown_fd(pgconn.socket)
    sock = getattr(dbapi_connection, "_sock", None)
    if sock is not None:  # PyMySQL
        return lambda: sock.shutdown(socket.SHUT_RDWR)
    interrupt = getattr(dbapi_connection, "interrupt", None)
    if interrupt is not None:  # sqlite3
        return interrupt
    return lambda: None


def _shutdown_fd(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    finally:
        sock.detach()  # the driver still owns the descriptor
