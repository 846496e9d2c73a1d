"""Upserts on PostgreSQL, MariaDB and SQLite: idempotent, verified, batched, streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from airflow_spof.core.errors import ErrorClass, classify
from airflow_spof.hooks.backend import TableBackend, open_backend
from airflow_spof.hooks.sql_backend import SqlBackend
from airflow_spof.hooks.sql_errors import SqlPermanentError
from airflow_spof.hooks.sql_rows import combine, rows_checksum

DIALECTS = ["pg1", "maria", "lite"]


@pytest.mark.parametrize("db", DIALECTS)
def test_rerun_changes_nothing(tables: Any, rows: Any, db: str) -> None:
    backend = open_backend(tables.endpoint(db))
    assert isinstance(backend, TableBackend)
    data = rows(120)

    first = backend.upsert(data)
    before = backend.fingerprints()
    second = backend.upsert(data)

    assert first == second
    assert first.size == 120
    assert first.checksum == rows_checksum(data)
    assert backend.fingerprints() == before
    assert tables.count(db) == 120
    assert combine(before.values()) == first.checksum  # same value the write acknowledged


@pytest.mark.parametrize("db", DIALECTS)
def test_update_by_key_and_reads(tables: Any, rows: Any, db: str) -> None:
    backend = open_backend(tables.endpoint(db))
    backend.upsert(rows(10))
    ack = backend.upsert(rows(3, start=8, tag="v2"))  # two updates, one insert

    assert ack.size == 3
    assert tables.count(db) == 11
    fetched = {r["id"]: r for r in backend.fetch([(8,), (10,), (999,)])}
    assert sorted(fetched) == [8, 10]
    assert fetched[8]["name"] == "order-8-v2"
    result = backend.query("SELECT name FROM {table} WHERE id = :id", {"id": 9})
    assert result == [{"name": "order-9-v2"}]
    assert backend.delete([(9,), (10,), (12345,)]) == 2
    assert tables.count(db) == 9
    backend.probe()


@pytest.mark.parametrize("db", DIALECTS)
def test_dataframe_input(tables: Any, rows: Any, db: str) -> None:
    frame = pd.DataFrame(rows(50))
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    frame.loc[3, "amount"] = float("nan")  # NaN is stored as NULL
    backend = open_backend(tables.endpoint(db, batch_size=16))

    ack = backend.upsert(frame)

    assert ack.size == 50
    assert backend.fetch([(3,)])[0]["amount"] is None
    assert backend.upsert(frame) == ack
    assert tables.count(db) == 50


@pytest.mark.parametrize("db", DIALECTS)
def test_a_numpy_nan_is_stored_as_null_like_any_nan(tables: Any, rows: Any, db: str) -> None:
    import numpy as np

    data = rows(3)
    data[0]["amount"], data[1]["amount"] = np.float64("nan"), float("nan")
    backend = open_backend(tables.endpoint(db))

    backend.upsert(data)

    assert [r["amount"] for r in backend.fetch([(0,), (1,)])] == [None, None]


def test_generator_is_streamed_in_batches(tables: Any, rows: Any) -> None:
    consumed: list[int] = []

    def produce() -> Iterator[dict[str, Any]]:
        for row in rows(95):
            consumed.append(row["id"])
            yield row

    backend = open_backend(tables.endpoint("pg1", batch_size=10))
    ack = backend.upsert(produce())

    assert ack.size == 95 and len(consumed) == 95
    assert tables.count("pg1") == 95


@pytest.mark.parametrize("db", DIALECTS)
def test_composite_key(tables: Any, db: str) -> None:
    table = sa.Table(
        f"{tables.name}_ck",
        sa.MetaData(),
        sa.Column("region", sa.String(10), primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("total", sa.Integer),
    )
    engine = tables.admin(db)
    table.create(engine)
    try:
        backend = SqlBackend(tables.endpoint(db, table=table.name, key=["region", "day"]))
        data = [{"region": r, "day": d, "total": d * 10} for r in ("eu", "us") for d in range(5)]
        ack = backend.upsert(data)
        assert backend.upsert(data) == ack
        assert set(backend.fingerprints()) == {(r["region"], r["day"]) for r in data}
        assert backend.fetch([("eu", 3)]) == [{"region": "eu", "day": 3, "total": 30}]
        assert backend.delete([("us", 1), ("us", 2)]) == 2
    finally:
        table.drop(engine)


def test_ambiguous_input_is_rejected_before_writing(tables: Any, rows: Any) -> None:
    backend = open_backend(tables.endpoint("pg1"))
    twice = [*rows(3), rows(1, start=1, tag="other")[0]]
    with pytest.raises(SqlPermanentError, match=r"key \(1,\) appears twice"):
        backend.upsert(twice)
    with pytest.raises(SqlPermanentError, match="lack key column"):
        backend.upsert([{"name": "no key"}])
    with pytest.raises(SqlPermanentError, match="same columns"):
        backend.upsert([{"id": 1, "name": "a"}, {"id": 2, "amount": 1.0}])
    assert tables.count("pg1") == 0


@pytest.mark.parametrize("db", DIALECTS)
def test_missing_table_is_permanent_and_names_it(tables: Any, rows: Any, db: str) -> None:
    backend = SqlBackend(tables.endpoint(db, table="no_such_table"))
    with pytest.raises(SqlPermanentError, match="no_such_table") as caught:
        backend.upsert(rows(1))
    assert classify(caught.value) is ErrorClass.PERMANENT


@pytest.mark.parametrize("db", DIALECTS)
def test_wide_keys_in_large_batches_stay_under_the_bound_parameter_limits(
    tables: Any, db: str
) -> None:
    """5,000 keys of 14 columns are 70,000 values: more than PostgreSQL (65,535) or SQLite
    (32,766) binds in one statement. Reads, read-backs and deletes split them."""
    columns = [f"k{i}" for i in range(14)]
    # jsonb prints back unlike the JSON sent: PostgreSQL verifies the batch by reading it back
    extra = sa.Column("meta", JSONB) if db == "pg1" else sa.Column("meta", sa.Integer)
    table = sa.Table(
        f"{tables.name}_wide",
        sa.MetaData(),
        *(sa.Column(c, sa.Integer, primary_key=True, autoincrement=False) for c in columns),
        extra,
    )
    engine = tables.admin(db)
    table.create(engine)
    try:
        endpoint = tables.endpoint(db, table=table.name, key=columns, batch_size=5000)
        backend = SqlBackend(endpoint)
        meta = (lambda n: {"n": n}) if db == "pg1" else (lambda n: n)
        data = [{**{c: n for c in columns}, "meta": meta(n)} for n in range(5000)]
        ack = backend.upsert(data)
        assert ack.size == 5000 and backend.upsert(data) == ack
        keys = [tuple(n for _ in columns) for n in range(5000)]
        assert len(backend.fetch(keys)) == 5000
        assert backend.delete(keys) == 5000
    finally:
        table.drop(engine)


@pytest.mark.parametrize("db", ["maria", "lite"])
def test_documents_are_stored_as_json_text_where_there_is_no_json_binding(
    tables: Any, db: str
) -> None:
    """PyMySQL and sqlite3 refuse dicts and lists: they are written as the JSON text the
    verification hashes, so what is read back proves the write."""
    table = sa.Table(
        f"{tables.name}_doc",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("doc", sa.Text),
    )
    engine = tables.admin(db)
    table.create(engine)
    try:
        backend = SqlBackend(tables.endpoint(db, table=table.name))
        data = [{"id": 1, "doc": {"b": [1, 2], "a": "x"}}, {"id": 2, "doc": ["p", {"q": None}]}]
        ack = backend.upsert(data)
        assert backend.upsert(data) == ack and ack.size == 2
        stored = {r["id"]: r["doc"] for r in backend.fetch([(1,), (2,)])}
        assert stored == {1: '{"a":"x","b":[1,2]}', 2: '["p",{"q":null}]'}
    finally:
        table.drop(engine)
