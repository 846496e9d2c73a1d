"""SQL tables as replicas: verified, idempotent upserts and bounded reads on SQLAlchemy Core.

Endpoint options (set by :func:`airflow_spof.sql`): ``table``, ``schema``,
``key`` (the primary-key or unique columns upserts match on); optionally
``url`` (see :mod:`airflow_spof.hooks.sql_connection`) and ``batch_size``.

The table must already exist with a primary key or unique index on ``key``:
its types and constraints are the data owner's decision, and a schema
guessed from the first rows would be silently wrong. A missing table or
constraint is a permanent error naming it.

Every operation runs in one transaction with its own timeout (the endpoint
``Timeouts.read``), enforced by the server where it can (``statement_timeout``)
and by a watchdog that cuts the connection where it cannot (a frozen server).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from airflow_spof import chaos
from airflow_spof.core.endpoints import Endpoint
from airflow_spof.core.errors import ChecksumMismatch, SpofError
from airflow_spof.core.replication import WriteAck
from airflow_spof.hooks.backend import Rows, Timeouts, register_backend
from airflow_spof.hooks.sql_batches import Batch, write_batches
from airflow_spof.hooks.sql_connection import Watchdog, engine_for, resolve
from airflow_spof.hooks.sql_copy import MIN_ROWS as COPY_MIN_ROWS
from airflow_spof.hooks.sql_copy import CopyText, CopyUpsert
from airflow_spof.hooks.sql_dialect import (
    TableSpec,
    begin_statements,
    driver_rows,
    key_chunks,
    key_filter,
    upsert_statement,
)
from airflow_spof.hooks.sql_errors import SqlPermanentError, SqlTimeout, sanitized
from airflow_spof.hooks.sql_rows import Digest, Key, Row, RowHasher, combine, hex_hash

T = TypeVar("T")
log = logging.getLogger(__name__)
DEFAULT_BATCH_SIZE = 500
COPY_BATCH_SIZE = 5000
"""Rows per batch on the COPY path (unless ``batch_size`` is set): one batch costs the
server five statements whatever its size, and 5,000 rows of text stay well under a MB."""
TABLE_PLACEHOLDER = "{table}"


class _StaleConnection(Exception):
    """A pooled connection died before the transaction did anything: safe to retry."""


@register_backend("sql")
class SqlBackend:
    """One SQL table on one database, implementing the ``TableBackend`` protocol."""

    def __init__(self, endpoint: Endpoint, timeouts: Timeouts | None = None) -> None:
        self.endpoint = endpoint
        self.timeouts = timeouts or Timeouts()
        self.spec = TableSpec.from_options(dict(endpoint.options), endpoint.name)
        configured = endpoint.options.get("batch_size")
        self.batch_size = int(configured or DEFAULT_BATCH_SIZE)
        self.copy_batch_size = int(configured or COPY_BATCH_SIZE)
        target = resolve(endpoint)
        self.secrets: tuple[str, ...] = target.secrets
        self.dialect = target.dialect
        self.engine = engine_for(target, self.timeouts.connect, self.timeouts.read)

    def __repr__(self) -> str:
        return f"SqlBackend({self.endpoint.name!r}, dialect={self.dialect!r})"

    # -- reads ----------------------------------------------------------------

    def probe(self) -> None:
        """Raise unless the database answers ``SELECT 1`` within the timeout."""
        self._run("probe", lambda conn: conn.exec_driver_sql("SELECT 1").scalar(), readonly=True)

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Rows:
        """Run a read-only query with ``:name`` parameters and return its rows and columns.

        ``{table}`` in ``sql`` becomes this endpoint's quoted table name, so
        one query text serves replicas whose schema or table names differ.
        """
        text = sql.replace(TABLE_PLACEHOLDER, self.qualified_table)

        def work(conn: Connection) -> Rows:
            result = conn.execute(sa.text(text), dict(parameters or {}))
            return Rows(result.keys(), (dict(r) for r in result.mappings()))

        rows = self._run("query", work, readonly=True)
        return Rows(rows.columns, chaos.corrupt_rows(self.endpoint, rows))

    def fingerprints(self) -> dict[Key, str]:
        """Key -> hex SHA-256 of every row's canonical content (for anti-entropy)."""
        key = self._require_key("fingerprints")

        def work(conn: Connection) -> dict[Key, str]:
            found: dict[Key, str] = {}
            select: sa.Select[Any] = sa.select(sa.literal_column("*")).select_from(
                self.spec.clause([])
            )
            result = conn.execution_options(yield_per=2000).execute(select)
            hasher = RowHasher(list(result.keys()))
            for index, partition in enumerate(result.mappings().partitions()):
                rows = [dict(r) for r in partition]
                if index == 0:
                    rows = chaos.corrupt_rows(self.endpoint, rows)
                for row in rows:
                    found[tuple(row[k] for k in key)] = hex_hash(hasher(row))
            return found

        return self._run("fingerprints", work, readonly=True)

    def checksum(self) -> str:
        """The order-independent checksum of the whole table (same rows -> same value)."""
        return combine(self.fingerprints().values())

    def fetch(self, keys: Sequence[Key]) -> list[Row]:
        """The full rows for ``keys`` (absent keys are simply missing from the result)."""
        key = self._require_key("fetch")
        wanted = [tuple(k) for k in keys]

        def work(conn: Connection) -> list[Row]:
            table = self.spec.clause(key)
            select: sa.Select[Any] = (
                sa.select(sa.literal_column("*")).select_from(table).where(key_filter(table, key))
            )
            rows: list[Row] = []
            for chunk in key_chunks(wanted, key, self.batch_size):
                rows.extend(dict(r) for r in conn.execute(select, {"keys": chunk}).mappings())
            return rows

        return chaos.corrupt_rows(self.endpoint, self._run("fetch", work, readonly=True))

    # -- writes ---------------------------------------------------------------

    def upsert(self, rows: Iterable[Mapping[str, Any]] | Any) -> WriteAck:
        """Insert or update ``rows`` by key in one transaction, verified before commit.

        ``rows``: a list or any iterable of dicts (consumed once, batch by
        batch), a pandas DataFrame, or :class:`SharedRows` (the checksum of
        what is sent then computed once for all replicas). After each batch
        the written keys are read back in the same transaction; if count or
        content checksum differ from what was sent, :class:`ChecksumMismatch`
        rolls everything back.
        """
        key = self._require_key("upsert")
        return self._run("upsert", lambda conn: self._upsert(conn, rows, key))

    def _upsert(self, conn: Connection, rows: Any, key: tuple[str, ...]) -> WriteAck:
        sent, stored = Digest(), Digest()
        statement: sa.Insert | None = None
        bulk: CopyUpsert | None = None
        hasher = RowHasher(())
        text = self.dialect == "postgresql" and CopyUpsert.usable(conn)
        size = self.copy_batch_size if text else self.batch_size
        for index, batch in enumerate(write_batches(rows, size, key, text)):
            if statement is None:
                statement = upsert_statement(self.dialect, self.spec, batch.columns)
                hasher = RowHasher(batch.columns)
                if batch.text is not None and len(batch.rows) >= COPY_MIN_ROWS:
                    bulk = CopyUpsert.open(conn, self.spec, batch.columns)
            sent.merge(batch.digest)
            stored.merge(self._write_batch(conn, statement, bulk, hasher, batch, index == 0))
        if sent != stored:
            raise ChecksumMismatch(
                f"{self.endpoint.name}: upsert of {sent.count} row(s) read back "
                f"{stored.count} row(s) with different content; rolled back",
                sent.checksum,
                stored.checksum,
            )
        return WriteAck(checksum=sent.checksum, size=sent.count)

    def _write_batch(
        self,
        conn: Connection,
        statement: sa.Insert,
        bulk: CopyUpsert | None,
        hasher: RowHasher,
        batch: Batch,
        first: bool,
    ) -> Digest:
        """Write one batch; the digest of what the database then holds for its keys."""
        sending = chaos.corrupt_rows(self.endpoint, batch.rows) if first else batch.rows
        text = batch.text if sending is batch.rows else CopyText.of(sending, batch.columns)
        if bulk is None or batch.text is None or text is None or not bulk.takes(text):
            conn.execute(statement, driver_rows(self.dialect, sending))
        else:
            bulk.upsert(text.lines)
            if not bulk.vouches_for(batch.text):
                log.debug(
                    "%s: a batch holds values whose printed form does not decide how they "
                    "read back; verifying it by canonical hashes",
                    self.endpoint.name,
                )
            elif bulk.holds(batch.text):
                return batch.digest
            else:
                log.debug(
                    "%s: a batch prints back unlike the text sent; verifying it by canonical "
                    "hashes",
                    self.endpoint.name,
                )
        return self._read_back(conn, hasher, self.spec.key, batch.keys)

    def _read_back(
        self, conn: Connection, hasher: RowHasher, key: tuple[str, ...], keys: list[Key]
    ) -> Digest:
        """Count and checksum of what the database now holds for ``keys``."""
        table = self.spec.clause(hasher.columns)
        select = sa.select(*(table.c[c] for c in hasher.columns)).where(key_filter(table, key))
        digest = Digest()
        for chunk in key_chunks(keys, key, len(keys)):
            for values in conn.execute(select, {"keys": chunk}):
                digest.add_hash(hasher.of_values(values))
        return digest

    def delete(self, keys: Sequence[Key]) -> int:
        """Remove rows by key in one transaction; returns how many existed."""
        key = self._require_key("delete")
        wanted = [tuple(k) for k in keys]

        def work(conn: Connection) -> int:
            table = self.spec.clause(key)
            statement = sa.delete(table).where(key_filter(table, key))
            removed = 0
            for chunk in key_chunks(wanted, key, self.batch_size):
                removed += conn.execute(statement, {"keys": chunk}).rowcount
            return removed

        return self._run("delete", work)

    # -- plumbing -------------------------------------------------------------

    @property
    def qualified_table(self) -> str:
        """The schema-qualified table name as this dialect quotes it."""
        return str(self.engine.dialect.identifier_preparer.format_table(self.spec.clause([])))

    def _require_key(self, operation: str) -> tuple[str, ...]:
        if not self.spec.key:
            raise SqlPermanentError(
                f"{self.endpoint.name}: {operation} needs key columns; declare them with "
                "sql(..., key='id') or key=('a', 'b')"
            )
        return self.spec.key

    def _run(self, operation: str, work: Callable[[Connection], T], readonly: bool = False) -> T:
        """One transaction with chaos, a timeout, one retry of a stale pooled connection."""
        chaos.before(self.endpoint, operation, timeout=self.timeouts.read)
        where = f"{self.endpoint.name}: {operation}"
        try:
            for allow_retry in (True, False):
                try:
                    return self._attempt(work, readonly, allow_retry, where)
                except _StaleConnection:
                    continue
            raise AssertionError("unreachable: the second attempt never retries")
        except SpofError:
            raise
        except Exception as exc:
            raise sanitized(exc, where, self.secrets) from None

    def _attempt(
        self, work: Callable[[Connection], T], readonly: bool, allow_retry: bool, where: str
    ) -> T:
        with self.engine.connect() as conn:
            dog = Watchdog(conn.connection.dbapi_connection, self.timeouts.read)
            try:
                with conn.begin() as transaction:
                    try:
                        for statement in begin_statements(
                            self.dialect, self.timeouts.read, readonly
                        ):
                            conn.exec_driver_sql(statement)
                    except sa.exc.DBAPIError as exc:
                        if allow_retry and exc.connection_invalidated and not dog.fired:
                            raise _StaleConnection() from None
                        raise
                    result = work(conn)
                    if readonly:
                        transaction.rollback()
                    return result
            except Exception:
                if dog.fired:
                    raise SqlTimeout(
                        f"{where}: no answer within {self.timeouts.read:g}s; "
                        "connection cut and discarded"
                    ) from None
                raise
            finally:
                dog.disarm()
                if dog.fired and not conn.invalidated:
                    conn.invalidate()
