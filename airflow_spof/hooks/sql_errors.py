"""Which database errors are worth failing over, and messages that carry no credentials.

PostgreSQL errors are classified by SQLSTATE class, MySQL/MariaDB by error
code, SQLite by its primary result code. The classifier is registered with
:func:`airflow_spof.core.errors.register` on import, so raw SQLAlchemy and
driver errors are classified correctly wherever they surface.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from airflow_spof.core.errors import (
    ErrorClass,
    PermanentError,
    SpofError,
    TransientError,
    classify,
    describe,
    register,
)

T, P = ErrorClass.TRANSIENT, ErrorClass.PERMANENT

# SQLSTATE class (first two characters) -> error class; exact codes override.
_SQLSTATE_CLASSES = {
    "08": T,  # connection exception
    "40": T,  # transaction rollback: serialization failure, deadlock
    "53": T,  # insufficient resources (too many connections, disk full)
    "57": T,  # operator intervention: statement timeout, admin/crash shutdown
    "58": T,  # system error (I/O)
    "HV": T,  # foreign data wrapper errors
    "22": P,  # data exception
    "23": P,  # integrity constraint violation
    "25": P,  # invalid transaction state (e.g. write in a read-only transaction)
    "28": P,  # invalid authorization
    "3D": P,  # database does not exist
    "3F": P,  # schema does not exist
    "42": P,  # syntax error or access rule violation (undefined table/column)
    "0A": P,  # feature not supported
}
_SQLSTATE_CODES = {"55P03": T, "55006": T}  # lock not available, object in use

_MYSQL_TRANSIENT = {
    1040, 1053, 1205, 1213, 1317, 1969, 2002, 2003, 2006, 2013, 2055, 3024,
}  # fmt: skip
_MYSQL_PERMANENT = {
    1044, 1045, 1046, 1048, 1049, 1054, 1062, 1064, 1146, 1264, 1292, 1364, 1366, 1406,
    1451, 1452, 1698,
}  # fmt: skip

# SQLite primary result codes.
_SQLITE_TRANSIENT = {5, 6, 9, 10, 13, 14, 15}  # busy, locked, interrupt, ioerr, full, cantopen
_SQLITE_PERMANENT = {1, 3, 8, 11, 18, 19, 20, 23, 26}  # error, perm, readonly, corrupt, ...

_PG_CONNECT_PERMANENT = (
    "password authentication failed",
    "no pg_hba.conf entry",
    "does not exist",
    "authentication failed",
)


class SqlTransientError(TransientError):
    """A database failure worth trying again elsewhere (refused, lost, timed out, deadlock)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class SqlPermanentError(PermanentError):
    """A database failure no other replica fixes (auth, missing table or column, bad data)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class SqlTimeout(SqlTransientError):
    """An operation outlived its timeout; its connection was cut and discarded."""


def classify_sql(exc: BaseException) -> ErrorClass | None:
    """Classify SQLAlchemy and driver errors; None for anything else."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        verdict = _classify_driver(exc.orig)
        if verdict is not None:
            return verdict
        if exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError):
            return T
        if isinstance(exc, (sa.exc.ProgrammingError, sa.exc.IntegrityError, sa.exc.DataError)):
            return P
        return None
    if isinstance(exc, sa.exc.TimeoutError):  # connection pool exhausted
        return T
    if isinstance(exc, (sa.exc.NoSuchTableError, sa.exc.ArgumentError, sa.exc.CompileError)):
        return P
    return _classify_driver(exc)


def _classify_driver(orig: BaseException) -> ErrorClass | None:
    module = type(orig).__module__
    if module.startswith("psycopg"):
        return _classify_psycopg(orig)
    if module.startswith("pymysql"):
        return _classify_mysql(orig)
    if module == "sqlite3":
        return _classify_sqlite(orig)
    return None


def _classify_psycopg(orig: BaseException) -> ErrorClass | None:
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        if sqlstate in _SQLSTATE_CODES:
            return _SQLSTATE_CODES[sqlstate]
        return _SQLSTATE_CLASSES.get(sqlstate[:2])
    # Connection failures carry no SQLSTATE; the server's reason is in the message.
    message = str(orig).lower()
    if any(reason in message for reason in _PG_CONNECT_PERMANENT):
        return P
    name = type(orig).__name__
    if name in ("OperationalError", "InterfaceError", "ConnectionTimeout"):
        return T
    if name in ("ProgrammingError", "IntegrityError", "DataError", "NotSupportedError"):
        return P
    return None


def _classify_mysql(orig: BaseException) -> ErrorClass | None:
    code = orig.args[0] if orig.args and isinstance(orig.args[0], int) else None
    if code in _MYSQL_TRANSIENT:
        return T
    if code in _MYSQL_PERMANENT:
        return P
    name = type(orig).__name__
    if name in ("OperationalError", "InterfaceError"):
        return T
    if name in ("ProgrammingError", "IntegrityError", "DataError", "NotSupportedError"):
        return P
    return None


def _classify_sqlite(orig: BaseException) -> ErrorClass | None:
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        primary = code & 0xFF
        if primary in _SQLITE_TRANSIENT:
            return T
        if primary in _SQLITE_PERMANENT:
            return P
    name = type(orig).__name__
    if name == "OperationalError":
        return T
    if name in ("ProgrammingError", "IntegrityError", "DataError", "NotSupportedError"):
        return P
    return None


register(classify_sql)


def sanitized(exc: BaseException, where: str, secrets: Iterable[str]) -> SpofError:
    """Our own error for ``exc``: same class, a one-line scrubbed message, its SQLSTATE.

    Callers raise it ``from None``: driver messages and SQLAlchemy's statement
    echo stay out of tracebacks, so a URL or password cannot leak through them.
    """
    if isinstance(exc, SpofError):
        return exc
    message = f"{where}: {describe(exc, secrets)}"
    code = _error_code(exc)
    if code:
        message += f" [{code}]"
    if classify(exc) is ErrorClass.PERMANENT:
        return SqlPermanentError(message, code)
    return SqlTransientError(message, code)


def _error_code(exc: BaseException) -> str | None:
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return f"SQLSTATE {sqlstate}"
    if type(orig).__module__.startswith("pymysql") and orig and orig.args:
        return f"MySQL error {orig.args[0]}"
    name = getattr(orig, "sqlite_errorname", None)
    return str(name) if name else None
