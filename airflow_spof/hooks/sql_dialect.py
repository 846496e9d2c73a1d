"""What differs between PostgreSQL, MySQL/MariaDB and SQLite: identifiers, upserts, timeouts.

Identifiers never reach SQL as text: they are checked against a strict
pattern, then rendered by SQLAlchemy through the dialect's identifier
preparer (so reserved words like ``order`` are quoted correctly). A name that
fails the check is a :class:`UnsafeIdentifier`, before any SQL is built.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from airflow_spof.core.errors import PermanentError
from airflow_spof.hooks.sql_rows import json_text

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class UnsafeIdentifier(PermanentError):
    """A schema, table or column name that is not a plain identifier (possible injection)."""


def check_identifier(name: Any, what: str, where: str = "") -> str:
    """Return ``name`` if it is a plain identifier, else raise naming the bad value."""
    if isinstance(name, str) and _IDENTIFIER.match(name):
        return name
    prefix = f"{where}: " if where else ""
    raise UnsafeIdentifier(
        f"{prefix}{what} name {name!r} is not a safe SQL identifier "
        "(letters, digits and _, starting with a letter or _, at most 63 characters); "
        "nothing was sent to the database"
    )


@dataclass(frozen=True)
class TableSpec:
    """The target table of an endpoint: schema, name and key columns, all validated."""

    table: str
    schema: str | None
    key: tuple[str, ...]

    @classmethod
    def from_options(cls, options: dict[str, Any], where: str) -> TableSpec:
        schema = options.get("schema")
        key = options.get("key") or ()
        return cls(
            table=check_identifier(options.get("table"), "table", where),
            schema=check_identifier(schema, "schema", where) if schema else None,
            key=tuple(check_identifier(k, "key column", where) for k in key),
        )

    def clause(self, columns: Sequence[str]) -> sa.TableClause:
        """A lightweight table construct for ``columns`` (no reflection round trip)."""
        return sa.table(self.table, *(sa.column(c) for c in columns), schema=self.schema)


def upsert_statement(
    dialect: str, spec: TableSpec, columns: Sequence[str], source: sa.Select[Any] | None = None
) -> sa.Insert:
    """The dialect's native insert-or-update by key, for executemany over ``columns``
    (or of the rows ``source`` selects, in ``columns`` order).

    PostgreSQL and SQLite: ``INSERT .. ON CONFLICT (key) DO UPDATE .. WHERE
    changed`` (a re-run touches no row). MySQL/MariaDB: ``INSERT .. ON
    DUPLICATE KEY UPDATE``.
    """
    table = spec.clause(columns)
    values = [c for c in columns if c not in spec.key]
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(table)
        if source is not None:
            stmt = stmt.from_select(list(columns), source)
        if not values:
            return stmt.on_conflict_do_nothing(index_elements=list(spec.key))
        changed = _changed(
            dialect, [table.c[c] for c in values], [stmt.excluded[c] for c in values]
        )
        return stmt.on_conflict_do_update(
            index_elements=list(spec.key),
            set_={c: stmt.excluded[c] for c in values},
            where=changed,
        )
    if dialect in ("mysql", "mariadb"):
        my = mysql.insert(table)
        if source is not None:
            my = my.from_select(list(columns), source)
        # MySQL needs at least one assignment; key = key is a no-op.
        updates = {c: my.inserted[c] for c in values} or {spec.key[0]: table.c[spec.key[0]]}
        return my.on_duplicate_key_update(updates)
    raise PermanentError(f"no native upsert for SQL dialect {dialect!r}")


def _changed(dialect: str, old: list[Any], new: list[Any]) -> Any:
    """The upsert's "did the row change" test. PostgreSQL compares how the two rows print:
    ``json``, ``xml`` and ``point`` have no ``=``, and the new values are already of the
    columns' types, so equal values print alike."""
    if dialect == "postgresql":
        return sa.cast(sa.func.row(*old), sa.Text).is_distinct_from(
            sa.cast(sa.func.row(*new), sa.Text)
        )
    return sa.or_(*(o.is_distinct_from(n) for o, n in zip(old, new, strict=True)))


def driver_rows(dialect: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as the driver can bind them. On PostgreSQL a dict is a JSON document (psycopg
    refuses a bare dict; ``Json`` binds it for ``json`` and ``jsonb`` columns alike; a list
    is an array). PyMySQL and sqlite3 bind neither: both become their canonical JSON text,
    which reads back as what was hashed."""
    documents = (dict,) if dialect == "postgresql" else (dict, list)
    if not any(type(v) in documents for row in rows for v in row.values()):
        return rows
    encode: Callable[[Any], Any] = json_text
    if dialect == "postgresql":
        from psycopg.types.json import Json

        encode = Json
    return [{k: encode(v) if type(v) in documents else v for k, v in row.items()} for row in rows]


def key_filter(table: sa.TableClause, key: Sequence[str], name: str = "keys") -> Any:
    """``WHERE key IN :keys`` (a row-value IN for composite keys), with an expanding bind."""
    param: sa.BindParameter[Any] = sa.bindparam(name, expanding=True)
    if len(key) == 1:
        return table.c[key[0]].in_(param)
    return sa.tuple_(*(table.c[k] for k in key)).in_(param)


def _key_params(keys: Sequence[tuple[Any, ...]], key: Sequence[str]) -> list[Any]:
    return [k[0] for k in keys] if len(key) == 1 else [tuple(k) for k in keys]


MAX_BOUND_VALUES = 32_766
"""Values one statement may bind: SQLite's limit, half PostgreSQL's and MySQL's 65,535."""


def key_chunks(
    keys: Sequence[tuple[Any, ...]], key: Sequence[str], at_most: int
) -> Iterator[list[Any]]:
    """Key values bound as ``key_filter`` expects them, in pieces of at most ``at_most``
    keys and never more bound values than a statement takes (5,000 keys of 14 columns
    would be 70,000)."""
    size = max(1, min(at_most, MAX_BOUND_VALUES // max(1, len(key))))
    for start in range(0, len(keys), size):
        yield _key_params(keys[start : start + size], key)


def begin_statements(dialect: str, timeout: float, readonly: bool) -> list[str]:
    """Statements that open every transaction: its own timeout, and read-only when reading.

    On PostgreSQL also how values print, whatever the role or database sets: ISO dates
    (the only style psycopg parses) and floats in full (with fewer digits a changed value
    could print, and read back, as the one sent). One statement, one round trip.

    They are also the liveness check of a pooled connection: if the first one
    fails on a dead connection, nothing was written and a retry is safe.
    """
    millis = max(1, math.ceil(timeout * 1000))
    if dialect == "postgresql":
        statements = [
            f"SELECT set_config('statement_timeout', '{millis}', true), "
            "set_config('DateStyle', 'ISO', true), "
            "set_config('extra_float_digits', '3', true)"
        ]
        if readonly:
            statements.insert(0, "SET TRANSACTION READ ONLY")
        return statements
    if dialect in ("mysql", "mariadb"):
        seconds = max(1, math.ceil(timeout))
        statements = [f"SET SESSION innodb_lock_wait_timeout = {seconds}"]
        if readonly:
            statements.insert(0, "SET TRANSACTION READ ONLY")
        return statements
    return []


def connect_args(dialect: str, connect_timeout: float, read_timeout: float) -> dict[str, Any]:
    """Driver-level limits: connect timeout, and socket timeouts where the driver has them.

    libpq rounds connect timeouts below 2 s up to 2 s and has no read timeout:
    a frozen PostgreSQL is cut off by the operation watchdog instead.
    """
    if dialect == "postgresql":
        return {
            "connect_timeout": max(2, math.ceil(connect_timeout)),
            "options": "-c timezone=UTC",
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
        }
    if dialect in ("mysql", "mariadb"):
        return {
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "write_timeout": read_timeout,
            "init_command": "SET time_zone = '+00:00'",
        }
    if dialect == "sqlite":
        return {"timeout": read_timeout, "check_same_thread": False}
    return {}
