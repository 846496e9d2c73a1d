"""Names are data, never SQL: unsafe identifiers are refused before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from airflow_spof.core.endpoints import sql
from airflow_spof.core.errors import ErrorClass, classify
from airflow_spof.hooks.backend import open_backend
from airflow_spof.hooks.sql_dialect import UnsafeIdentifier

ATTACK = "orders; DROP TABLE victims; --"


@pytest.fixture
def victim(tables: Any) -> Any:
    engine = tables.admin("pg1")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE victims (id int primary key)"))
    yield engine
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS victims"))


def _victims_survive(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT to_regclass('victims') IS NOT NULL")).scalar_one()


@pytest.mark.parametrize(
    ("field", "value"),
    [("table", ATTACK), ("schema", 'public"; DROP TABLE victims; --'), ("key", "id) --")],
)
def test_endpoint_identifier_injection_is_a_clear_error(
    victim: sa.Engine, field: str, value: str
) -> None:
    kwargs: dict[str, Any] = {"table": "orders", "key": "id", field: value}
    with pytest.raises(UnsafeIdentifier) as caught:
        open_backend(sql("spof_pg1", **kwargs))
    message = str(caught.value)
    assert repr(value) in message and "not a safe SQL identifier" in message
    assert classify(caught.value) is ErrorClass.PERMANENT
    assert _victims_survive(victim)


def test_column_injection_in_rows_is_a_clear_error(
    tables: Any, rows: Any, victim: sa.Engine
) -> None:
    backend = open_backend(tables.endpoint("pg1"))
    bad = 'name" = 1; DROP TABLE victims; --'
    with pytest.raises(UnsafeIdentifier, match="column name"):
        backend.upsert([{"id": 1, bad: "x"}])
    with pytest.raises(UnsafeIdentifier, match="column name"):
        backend.upsert([{"id": 1, "name": "ok"}, {"id": 2, bad: "x"}])
    assert _victims_survive(victim)
    assert tables.count("pg1") == 0


@pytest.mark.parametrize("db", ["pg1", "maria", "lite"])
def test_reserved_words_are_quoted_by_the_dialect(tables: Any, db: str) -> None:
    table = sa.Table(
        f"order_{tables.name}",
        sa.MetaData(),
        sa.Column("select", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("group", sa.String(20)),
    )
    engine = tables.admin(db)
    table.create(engine)
    try:
        backend = open_backend(tables.endpoint(db, table=table.name, key="select"))
        backend.upsert([{"select": 1, "group": "a"}, {"select": 2, "group": "b"}])
        assert backend.fetch([(2,)]) == [{"select": 2, "group": "b"}]
    finally:
        table.drop(engine)
