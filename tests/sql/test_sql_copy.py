"""PostgreSQL writes through COPY: exact round trips, altered values caught, fallbacks that work.

Writes of 50 rows or more go through a staging table and are verified by a digest of
how the server prints the stored rows. When a batch prints differently from what was
sent, the backend logs it and verifies the batch by canonical hashes instead: the tests
read that log line to tell which check decided.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from airflow_spof.core.errors import ChecksumMismatch
from airflow_spof.hooks.backend import open_backend
from airflow_spof.hooks.sql_backend import SqlBackend
from airflow_spof.hooks.sql_rows import rows_checksum

FALLBACK = "verifying it by canonical hashes"
AWKWARD_TEXT = [
    "plain",
    "",
    "back\\slash",
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "\b\f\v controls",
    "\\N",
    "ünïcødé ✓ 日本",
    "'quotes' \"double\"",
    "\\.",
]


@pytest.fixture
def pg(tables: Any) -> Iterator[Any]:
    """Run DDL on pg1 for a test-specific table; returns (create, endpoint for it)."""
    made: list[str] = []
    engine = tables.admin("pg1")

    def create(columns: str) -> Any:
        name = f"{tables.name}_{len(made)}"
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE TABLE {name} (id integer PRIMARY KEY, {columns})")
        made.append(name)
        return open_backend(tables.endpoint("pg1", table=name)), name

    yield create
    with engine.begin() as conn:
        for name in made:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture
def as_role(pg: Any, tables: Any, databases: Any) -> Iterator[Callable[..., SqlBackend]]:
    """``as_role(table, **settings)``: a backend on pg1 logging in as a new role that may read
    and write ``table``, with ``ALTER ROLE ... SET`` settings; the roles are dropped after."""
    made: list[tuple[str, str]] = []
    admin = tables.admin("pg1")

    def make(table: str, **settings: str) -> SqlBackend:
        role = f"role_{len(made)}_{table}"
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            for setting, value in settings.items():
                conn.exec_driver_sql(f"ALTER ROLE {role} SET {setting} = {value}")
            conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE ON {table} TO {role}")
        made.append((role, table))
        url = sa.make_url(databases.pg1.url).set(username=role)
        return SqlBackend(tables.endpoint("pg1", table=table, url=url.render_as_string(False)))

    yield make
    with admin.begin() as conn:
        for role, table in made:
            conn.exec_driver_sql(f"REVOKE ALL ON {table} FROM {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")


class _Messages(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


@pytest.fixture
def slow_checks() -> Iterator[list[str]]:
    """Messages of batches verified the slow way, from the backend's own logger (caplog's
    root handler can be replaced when Airflow configures logging in the middle of a test)."""
    handler, logger = _Messages(), logging.getLogger("airflow_spof.hooks.sql_backend")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.seen
    logger.removeHandler(handler)
    logger.setLevel(level)


def fallbacks(seen: list[str]) -> int:
    return sum(FALLBACK in message for message in seen)


def stored(tables: Any, name: str) -> list[dict[str, Any]]:
    with tables.admin("pg1").connect() as conn:
        result = conn.exec_driver_sql(f"SELECT * FROM {name} ORDER BY id")
        return [dict(r) for r in result.mappings()]


def test_every_common_type_round_trips_exactly_on_the_fast_check(
    pg: Any, tables: Any, slow_checks: list[str]
) -> None:
    backend, name = pg(
        "note text, label varchar(40), blob bytea, flag boolean, ident uuid, "
        "price numeric(10,2), ratio double precision, day date, at timestamp, big bigint, "
        "seen timestamptz"
    )
    rows = [
        {
            "id": i,
            "note": AWKWARD_TEXT[i % len(AWKWARD_TEXT)] if i % 13 else None,
            "label": f"label-{i}",
            "blob": bytes([i % 256, 0, 92, 10]),
            "flag": i % 2 == 0,
            "ident": uuid.UUID(int=i),
            "price": decimal.Decimal(i) / 4,
            "ratio": i / 7 if i % 5 else float(i),
            "day": dt.date(2024, 1, 1) + dt.timedelta(days=i),
            "at": dt.datetime(2024, 1, 1, 12, 30) + dt.timedelta(seconds=i, microseconds=i * 2500),
            "big": 2**62 - i,
            "seen": dt.datetime(2024, 3, 1, 9, 15, i % 60, i * 1000, tzinfo=dt.timezone.utc),
        }
        for i in range(120)
    ]

    ack = backend.upsert(rows)

    assert fallbacks(slow_checks) == 0  # every batch printed back exactly as sent
    assert (ack.size, ack.checksum) == (120, rows_checksum(rows))
    assert [
        {k: bytes(v) if k == "blob" else v for k, v in r.items()} for r in stored(tables, name)
    ] == rows
    versions = [r["xmin"] for r in _xmins(tables, name)]
    assert backend.upsert(rows) == ack  # a re-run is verified the same way ...
    assert [r["xmin"] for r in _xmins(tables, name)] == versions  # ... and rewrites no row


def _xmins(tables: Any, name: str) -> list[dict[str, Any]]:
    with tables.admin("pg1").connect() as conn:
        return [
            dict(r)
            for r in conn.exec_driver_sql(f"SELECT xmin::text FROM {name} ORDER BY id").mappings()
        ]


@pytest.mark.parametrize("count", [40, 60], ids=["row-by-row", "copy"])
@pytest.mark.parametrize(
    ("column", "sent"),
    [
        ("numeric(10,2)", 1.234),  # rounded to the column's scale
        ("char(5)", "ab"),  # padded to the column's width
        # rounded to a whole number past Python's default 28 significant digits
        ("numeric(30,0)", decimal.Decimal("12345678901234567890123456789.5")),
    ],
)
def test_a_value_the_database_changed_fails_the_write(
    pg: Any, tables: Any, column: str, sent: Any, count: int
) -> None:
    backend, name = pg(f"value {column}")
    with pytest.raises(ChecksumMismatch, match="rolled back"):
        backend.upsert([{"id": i, "value": sent} for i in range(count)])
    assert stored(tables, name) == []


AWARE = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))


@pytest.mark.parametrize(
    ("column", "sent"),
    [
        ("text", True),  # stored and read back as 't'
        ("text", decimal.Decimal("1.10")),  # '1.10', not the number 1.1
        ("text", 1e-05),  # '1e-05', not the number 0.00001
        ("text", b"\x00\\"),  # '\\x005c'
        ("text", AWARE),  # a string with an offset, not the instant
        ("boolean", "t"),  # read back True
        ("double precision", decimal.Decimal("NaN")),  # read back as a missing value
        ("numeric", float("inf")),  # read back Decimal('Infinity'), another canonical form
        ("bytea", "\\x0001"),  # read back the bytes 00 01
        ("time", "12:30:00.5"),  # read back time(12, 30, 0, 500000)
        ("interval", "1 day"),  # read back a timedelta
    ],
)
def test_a_value_that_prints_back_as_sent_but_reads_back_otherwise_fails_the_write(
    pg: Any, tables: Any, column: str, sent: Any
) -> None:
    """Printing back the same text is not enough: a reader gets another value than was sent,
    so the acknowledged checksum would not be the table's (row by row, this fails too)."""
    backend, name = pg(f"value {column}")
    with pytest.raises(ChecksumMismatch, match="rolled back"):
        backend.upsert([{"id": i, "value": sent} for i in range(60)])
    assert stored(tables, name) == []


def test_equal_values_printed_another_way_pass_the_slow_check(
    pg: Any, tables: Any, slow_checks: list[str]
) -> None:
    """The same value, printed in another form, is verified by canonical hashes instead."""
    backend, name = pg("price numeric(10,2), at timestamptz")
    utc = dt.timezone.utc
    rows = [
        {
            "id": i,
            "price": decimal.Decimal("1.10"),  # kept, printed 1.1 without the padding
            "at": dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        }
        for i in range(60)
    ]

    ack = backend.upsert(rows)

    assert fallbacks(slow_checks) == 1
    assert ack.checksum == rows_checksum(rows)
    assert {r["at"].astimezone(utc) for r in stored(tables, name)} == {
        dt.datetime(2024, 5, 1, 6, 0, tzinfo=utc)
    }


@pytest.mark.parametrize("count", [40, 60], ids=["row-by-row", "copy"])
def test_an_aware_datetime_in_a_timestamp_column_is_stored_as_its_utc_time(
    pg: Any, tables: Any, count: int
) -> None:
    """A timestamp column's input drops an offset instead of applying it: sent with +02:00,
    08:00 would be stored, and the write fail verification, though row by row it passes."""
    backend, name = pg("at timestamp, instant timestamptz")
    rows = [{"id": i, "at": AWARE, "instant": AWARE} for i in range(count)]

    ack = backend.upsert(rows)

    assert ack.checksum == rows_checksum(rows) == backend.checksum()
    assert {(r["at"], r["instant"]) for r in stored(tables, name)} == {
        (dt.datetime(2024, 5, 1, 6, 0), dt.datetime(2024, 5, 1, 6, 0, tzinfo=dt.timezone.utc))
    }


@pytest.mark.parametrize(
    ("column", "sent"),
    [
        ("bigint", 1.7e18),  # nanoseconds since 1970, a float in a DataFrame with gaps
        ("bigint", 1e16),
        ("integer", decimal.Decimal("1E+2")),
        ("integer", decimal.Decimal("5.0")),
    ],
)
def test_an_integral_number_in_another_form_is_written_to_an_integer_column(
    pg: Any, tables: Any, column: str, sent: Any
) -> None:
    """Row by row, PostgreSQL casts these to the integer column; COPY's integer input
    rejected their text (``1.7e+18``, ``1E+2``, ``5.0``) and failed the write."""
    backend, name = pg(f"value {column}")
    rows = [{"id": i, "value": sent} for i in range(60)]

    ack = backend.upsert(rows)

    assert ack.checksum == rows_checksum(rows) == backend.checksum()
    assert {r["value"] for r in stored(tables, name)} == {int(sent)}


def test_values_without_a_text_form_are_written_row_by_row(
    pg: Any, tables: Any, slow_checks: list[str]
) -> None:
    backend, name = pg("tags integer[]")
    rows = [{"id": i, "tags": [i, i + 1]} for i in range(60)]

    ack = backend.upsert(rows)

    assert (ack.size, ack.checksum) == (60, rows_checksum(rows))
    assert stored(tables, name) == rows
    assert fallbacks(slow_checks) == 0  # not staged at all


def test_a_role_without_temporary_tables_still_writes(
    pg: Any, tables: Any, as_role: Callable[..., SqlBackend]
) -> None:
    _, name = pg("note text")
    backend = as_role(name)
    with tables.admin("pg1").begin() as conn:
        conn.exec_driver_sql("REVOKE TEMPORARY ON DATABASE postgres FROM PUBLIC")
    try:
        rows = [{"id": i, "note": f"n{i}"} for i in range(60)]
        assert backend.upsert(rows).checksum == rows_checksum(rows)
        assert stored(tables, name) == rows
    finally:
        with tables.admin("pg1").begin() as conn:
            conn.exec_driver_sql("GRANT TEMPORARY ON DATABASE postgres TO PUBLIC")


@pytest.mark.parametrize("count", [40, 60], ids=["row-by-row", "copy"])
def test_a_role_printing_floats_rounded_lets_no_altered_float_pass(
    pg: Any, tables: Any, as_role: Callable[..., SqlBackend], count: int
) -> None:
    """With ``extra_float_digits = 0`` (PostgreSQL 11's default) floats print with 15
    digits: a value a trigger nudged would print, and read back, as the one sent."""
    _, name = pg("value double precision, exact double precision")
    with tables.admin("pg1").begin() as conn:
        conn.exec_driver_sql(
            f"CREATE FUNCTION nudge_{name}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN NEW.value := NEW.value + 1e-13; RETURN NEW; END $$"
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER nudge BEFORE INSERT OR UPDATE ON {name} "
            f"FOR EACH ROW EXECUTE FUNCTION nudge_{name}()"
        )
    backend = as_role(name, extra_float_digits="0")
    try:
        exact = [{"id": i, "value": None, "exact": 0.1 + 0.2} for i in range(count)]
        assert backend.upsert(exact).checksum == rows_checksum(exact)  # 17 digits, kept

        with pytest.raises(ChecksumMismatch, match="rolled back"):
            backend.upsert([{"id": i, "value": 1000.5, "exact": 0.5} for i in range(count)])
        assert {r["value"] for r in stored(tables, name)} == {None}
    finally:
        with tables.admin("pg1").begin() as conn:
            conn.exec_driver_sql(f"DROP FUNCTION nudge_{name}() CASCADE")  # and its trigger


def test_a_table_named_like_the_staging_table_is_written(tables: Any) -> None:
    """Temporary tables come first in the search path: a staging table named like the
    target would hide it from the merge."""
    with tables.admin("pg1").begin() as conn:
        conn.exec_driver_sql("CREATE TABLE spof_stage (id integer PRIMARY KEY, note text)")
    try:
        rows = [{"id": i, "note": f"n{i}"} for i in range(60)]
        backend = open_backend(tables.endpoint("pg1", table="spof_stage"))
        assert backend.upsert(rows).checksum == rows_checksum(rows)
        assert stored(tables, "spof_stage") == rows
    finally:
        with tables.admin("pg1").begin() as conn:
            conn.exec_driver_sql("DROP TABLE spof_stage")


@pytest.mark.parametrize("count", [40, 60], ids=["row-by-row", "copy"])
def test_a_role_with_another_date_style_reads_and_writes_timestamps(
    pg: Any, as_role: Callable[..., SqlBackend], count: int
) -> None:
    """psycopg parses only ISO dates: every transaction sets its own DateStyle and float
    digits, whatever the role or database says."""
    _, name = pg("at timestamptz, ratio double precision")
    backend = as_role(name, DateStyle="'SQL, DMY'", extra_float_digits="0")
    at = dt.datetime(2024, 5, 1, 6, 30, tzinfo=dt.timezone.utc)
    rows = [{"id": i, "at": at, "ratio": 0.1 + 0.2} for i in range(count)]
    assert backend.upsert(rows).checksum == rows_checksum(rows)
    assert backend.query("SELECT at, ratio FROM {table} WHERE id = 0") == [
        {"at": at, "ratio": 0.1 + 0.2}
    ]


@pytest.mark.parametrize("count", [40, 60], ids=["row-by-row", "copy"])
def test_json_and_columns_without_equality_are_upserted_and_a_rerun_rewrites_nothing(
    pg: Any, tables: Any, count: int
) -> None:
    """Dicts are JSON documents; ``json`` (and ``xml``, ``point``) have no ``=``, so the
    "did it change" test of the upsert compares how the old and the new row print."""
    backend, name = pg("doc json, bin jsonb, spot point")
    doc = {"b": 1, "a": [1, 2.5, None], "text": 'tab\t "quoted" \\ ünï'}
    rows = [{"id": i, "doc": doc, "bin": doc, "spot": "(1.5,2)"} for i in range(count)]

    ack = backend.upsert(rows)
    assert ack.checksum == rows_checksum(rows)
    assert {(r["doc"] == doc, r["bin"] == doc) for r in stored(tables, name)} == {(True, True)}
    versions = _xmins(tables, name)
    assert backend.upsert(rows) == ack and _xmins(tables, name) == versions

    changed = [{**row, "doc": {"b": 2}} if row["id"] == 0 else row for row in rows]
    backend.upsert(changed)
    after = _xmins(tables, name)
    assert after[0] != versions[0] and after[1:] == versions[1:]
