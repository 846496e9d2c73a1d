"""Real database errors, classified: fail over on transient ones, fail fast on the rest."""

from __future__ import annotations

import os
from typing import Any

import psycopg.errors
import pymysql
import pytest
import sqlalchemy as sa

from airflow_spof.core.endpoints import sql
from airflow_spof.core.errors import ErrorClass, classify
from airflow_spof.hooks.backend import open_backend
from airflow_spof.hooks.sql_errors import SqlPermanentError, SqlTransientError
from airflow_spof.testing.waiting import free_port

T, P = ErrorClass.TRANSIENT, ErrorClass.PERMANENT


def _error(engine: sa.Engine, statement: str) -> BaseException:
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as conn:
        conn.execute(sa.text(statement))
    return caught.value


@pytest.mark.parametrize("db", ["pg1", "maria", "lite"])
def test_statement_errors_are_permanent(tables: Any, db: str) -> None:
    engine = tables.admin(db)
    assert classify(_error(engine, "SELECT * FROM no_such_table")) is P
    assert classify(_error(engine, f"SELECT no_such_column FROM {tables.name}")) is P
    assert classify(_error(engine, "SELEC 1")) is P
    with engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO {tables.name} (id) VALUES (1)"))
    assert classify(_error(engine, f"INSERT INTO {tables.name} (id) VALUES (1)")) is P


def test_serialization_failure_is_transient(tables: Any) -> None:
    engine = tables.admin("pg1")
    with engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO {tables.name} (id, name) VALUES (1, 'a')"))
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as first:
        first.execute(sa.text(f"SELECT * FROM {tables.name}")).all()
        with engine.begin() as second:
            second.execute(sa.text(f"UPDATE {tables.name} SET name = 'b' WHERE id = 1"))
        with pytest.raises(sa.exc.OperationalError) as caught:
            first.execute(sa.text(f"UPDATE {tables.name} SET name = 'c' WHERE id = 1"))
    assert caught.value.orig.sqlstate == "40001"
    assert classify(caught.value) is T


def test_refused_is_transient_and_missing_database_permanent(databases: Any) -> None:
    os.environ["AIRFLOW_CONN_SPOF_NOWHERE"] = f"postgres://u@127.0.0.1:{free_port()}/x"
    os.environ["AIRFLOW_CONN_SPOF_NODB"] = (
        f"postgres://postgres@127.0.0.1:{databases.pg1.port}/nodb"
    )
    try:
        with pytest.raises(SqlTransientError, match="refused"):
            open_backend(sql("spof_nowhere", table="t", key="id")).probe()
        with pytest.raises(SqlPermanentError, match="does not exist"):
            open_backend(sql("spof_nodb", table="t", key="id")).probe()
    finally:
        del os.environ["AIRFLOW_CONN_SPOF_NOWHERE"], os.environ["AIRFLOW_CONN_SPOF_NODB"]


def test_mariadb_access_denied_is_permanent(databases: Any) -> None:
    os.environ["AIRFLOW_CONN_SPOF_INTRUDER"] = (
        f"mysql://intruder:wrong-password@127.0.0.1:{databases.maria.port}/spof"
    )
    try:
        with pytest.raises(SqlPermanentError, match="1045"):
            open_backend(sql("spof_intruder", table="t", key="id")).probe()
    finally:
        del os.environ["AIRFLOW_CONN_SPOF_INTRUDER"]


def test_unknown_connection_and_type_are_clear(databases: Any) -> None:
    with pytest.raises(SqlPermanentError, match="AIRFLOW_CONN_SPOF_UNDEFINED"):
        open_backend(sql("spof_undefined", table="t", key="id"))
    os.environ["AIRFLOW_CONN_SPOF_HTTP"] = "http://example.invalid"
    try:
        with pytest.raises(SqlPermanentError, match="conn_type 'http'"):
            open_backend(sql("spof_http", table="t", key="id"))
    finally:
        del os.environ["AIRFLOW_CONN_SPOF_HTTP"]


@pytest.mark.parametrize(
    ("orig", "expected"),
    [
        (psycopg.errors.DeadlockDetected(), T),
        (psycopg.errors.QueryCanceled(), T),
        (psycopg.errors.AdminShutdown(), T),
        (psycopg.errors.TooManyConnections(), T),
        (psycopg.errors.LockNotAvailable(), T),
        (psycopg.errors.InvalidPassword(), P),
        (psycopg.errors.InsufficientPrivilege(), P),
        (psycopg.errors.NotNullViolation(), P),
        (psycopg.errors.ReadOnlySqlTransaction(), P),
        (pymysql.err.OperationalError(2013, "Lost connection"), T),
        (pymysql.err.OperationalError(1213, "Deadlock found"), T),
        (pymysql.err.OperationalError(1045, "Access denied"), P),
        (pymysql.err.ProgrammingError(1146, "Table doesn't exist"), P),
    ],
)
def test_driver_error_table(orig: BaseException, expected: ErrorClass) -> None:
    """Errors that are hard to provoke on demand, classified through SQLAlchemy's wrapper."""
    wrapped = sa.exc.DBAPIError.instance("SELECT 1", {}, orig, Exception)
    assert classify(wrapped) is expected
    assert classify(orig) is expected
