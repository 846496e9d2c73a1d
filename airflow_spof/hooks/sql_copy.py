"""PostgreSQL bulk upserts: COPY a batch into a staging table, merge it by key, compare digests.

Row-by-row ``executemany`` cost the client tens of microseconds of CPU per row (binding,
pipelining, then reading every stored row back and hashing it in Python), and writer
threads share one GIL, so three replicas took about three times as long as one. Here a
batch is encoded once, as COPY text, for every replica. Each replica's server parses it
into a temporary table, merges it into the target with the same ``ON CONFLICT`` upsert,
then prints the merged rows the way COPY would and returns one SHA-256 of them.

Verification stays exact: the digest matches only if every stored row prints as,
byte for byte, the line that was sent (``numeric`` is printed without trailing zeros,
so 1.5 stored in NUMERIC(10,2) prints ``1.5`` while 1.234 prints ``1.23``). Any other
difference (a timestamp printed in another style) only means the caller verifies the
batch the slow way, by canonical hashes of the rows read back. So does a value whose
printed form does not decide what a reader gets: True stored in a text column prints
``t`` as sent, but reads back as the string ``'t'``, so only values of the kinds a
column's type reads back as themselves are vouched for by the digest. A value without
an exact text form here (a dict, a list) sends the batch through ``executemany``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from airflow_spof.hooks.sql_dialect import TableSpec, upsert_statement

MIN_ROWS = 50
"""A write whose first batch is smaller than this is cheaper as ``executemany`` than as a
staging table (four more statements)."""

STAGE = "spof-stage"
"""Temporary tables come first in the search path, so the staging table has a name no
checked target name can have (a hyphen): it can never hide the target."""
_NUMERIC = 1700  # pg_type OID: printed with its column's scale, trimmed to compare
_TIMESTAMPTZ = 1184
_PLAIN_OUTPUT = frozenset({16, 20, 21, 23, 26, 700, 701, 1082, 1083, 1114, 1184, 1186, 1700, 2950})
"""Types whose printed form never holds a character COPY escapes (bool, integers, floats,
dates and times, numeric, uuid): no ``replace()`` needed on the server."""
_ESCAPES = str.maketrans(
    {"\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
)
"""What COPY's text format escapes on the way out; escaping the same on the way in makes an
unchanged stored value print as exactly the line that was sent."""
_SQL_ESCAPES = (
    (r"E'\\'", r"E'\\\\'"),  # the backslash first
    ("chr(8)", r"E'\\b'"),
    ("chr(12)", r"E'\\f'"),
    ("chr(10)", r"E'\\n'"),
    ("chr(13)", r"E'\\r'"),
    ("chr(9)", r"E'\\t'"),
    ("chr(11)", r"E'\\v'"),
)
_INTEGER_FLOATS = 1e16
"""From here on every float is an integer, and ``repr`` writes it with an exponent."""
_BIGINT_END = 2.0**63
_DECIMAL_DIGITS = 1000
_INTEGERS = frozenset({20, 21, 23, 26})
_MIN_SERVER = 110000  # sha256() is PostgreSQL 11+
_TRIM_SCALE_SINCE = 130000  # trim_scale() is PostgreSQL 13+


_FRACTION = re.compile(r"\.(\d+)")


class _NoTextForm(Exception):
    """A value this encoder cannot write as COPY text that prints back the same."""


class _NonFinite:
    """The kind of a float infinity or NaN: ``Infinity`` prints back from a ``numeric``
    column too, but reads back as ``Decimal('Infinity')``, whose canonical form differs."""


_INTEGER_KINDS = frozenset({int, float, decimal.Decimal, str})
_TEXT_KINDS = frozenset({str, int, uuid.UUID, dt.date})
_TRUSTED: dict[int, frozenset[type]] = {
    114: frozenset({dict}),  # json keeps the text sent, which reads back as the dict
    16: frozenset({bool}),
    17: frozenset({bytes, bytearray, memoryview}),
    20: _INTEGER_KINDS,
    21: _INTEGER_KINDS,
    23: _INTEGER_KINDS,
    25: _TEXT_KINDS,
    26: _INTEGER_KINDS,
    700: frozenset({float, int, _NonFinite}),
    701: frozenset({float, int, _NonFinite}),
    1042: _TEXT_KINDS,
    1043: _TEXT_KINDS,
    1082: frozenset({dt.date}),
    1083: frozenset({dt.time}),
    1114: frozenset({dt.datetime}),
    1184: frozenset({dt.datetime}),
    1700: frozenset({decimal.Decimal, int, float}),
    2950: frozenset({uuid.UUID, str}),
}
"""Per column type (pg_type OID; a domain is reported as its base type), the kinds of
Python value whose text, printed back unchanged, reads back as a value with the same
canonical form (:func:`~airflow_spof.hooks.sql_rows.canonical`). A string is trusted
only where its printed form is its canonical one: text, integers, uuid."""


def _float(value: float) -> str:
    if math.isfinite(value):
        if _INTEGER_FLOATS <= abs(value) < _BIGINT_END:
            return str(int(value))  # 1.7e18 as digits: an integer column's input takes no exponent
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _decimal(value: decimal.Decimal) -> str:
    """Without an exponent where that is short (``1E+2`` as ``100``, which an integer
    column's input takes); ``numeric`` stores both forms alike."""
    text = str(value)
    if "E" in text and value.is_finite() and abs(value.adjusted()) <= _DECIMAL_DIGITS:
        return format(value, "f")
    return text


def _bytes(value: Any) -> str:
    return "\\\\x" + bytes(value).hex()


def _iso(value: dt.datetime | dt.date | dt.time) -> str:
    if not isinstance(value, dt.datetime):
        text = value.isoformat()
    else:
        if value.tzinfo is not None:
            # A timestamp column drops an offset instead of applying it: send the UTC time.
            value = value.astimezone(dt.timezone.utc)
        text = value.isoformat(sep=" ")
    if getattr(value, "microsecond", 0):
        # PostgreSQL prints fractions without trailing zeros (.5, not .500000).
        text = _FRACTION.sub(lambda match: "." + match.group(1).rstrip("0"), text)
    return text


_FORMATS: dict[type, Callable[[Any], str]] = {
    dict: lambda value: json.dumps(value).translate(_ESCAPES),  # json, jsonb
    bool: lambda value: "t" if value else "f",
    int: str,
    float: _float,
    decimal.Decimal: _decimal,
    dt.datetime: _iso,
    dt.date: _iso,
    dt.time: _iso,
    bytes: _bytes,
    bytearray: _bytes,
    memoryview: _bytes,
    uuid.UUID: str,
}


def _field(value: Any) -> str:
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        return value.translate(_ESCAPES)
    format_ = _FORMATS.get(kind)
    if format_ is None:
        raise _NoTextForm(kind)
    return format_(value)


@dataclass(frozen=True)
class CopyText:
    """A batch as COPY text lines (UTF-8), and the digest its stored rows must print to."""

    lines: list[bytes]
    sha256: str
    kinds: tuple[frozenset[type], ...]
    """Per column, the kinds of value it holds (types, and :class:`_NonFinite`)."""

    @classmethod
    def of(cls, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> CopyText | None:
        """The batch's text, or None if a value has no exact text form here."""
        try:
            lines = ["\t".join([_field(row[c]) for c in columns]).encode() for row in rows]
        except _NoTextForm:
            return None
        kinds = tuple(_kinds(rows, c) for c in columns)
        return cls(lines, hashlib.sha256(b"\n".join(sorted(lines))).hexdigest(), kinds)


def _kinds(rows: Sequence[dict[str, Any]], column: str) -> frozenset[type]:
    kinds = {type(row[column]) for row in rows}
    if float in kinds and not all(
        math.isfinite(row[column]) for row in rows if type(row[column]) is float
    ):
        kinds.add(_NonFinite)
    return frozenset(kinds)


class CopyUpsert:
    """The COPY path of one upsert transaction on PostgreSQL (psycopg 3).

    Created inside the transaction: the staging table is dropped when it ends, and it
    has exactly the target's types for the written columns, so neither the merge nor
    the key join needs a cast.
    """

    def __init__(self, conn: Connection, spec: TableSpec, columns: Sequence[str]) -> None:
        raw: Any = conn.connection.dbapi_connection
        self._conn = conn
        self._cursor = raw.cursor()
        preparer = conn.dialect.identifier_preparer
        target = preparer.format_table(spec.clause(columns))
        names = ", ".join(preparer.quote(c) for c in columns)
        self._stage_name = stage_name = f"pg_temp.{preparer.quote(STAGE)}"
        self._cursor.execute(
            f"CREATE TEMP TABLE {stage_name} ON COMMIT DROP "
            f"AS SELECT {names} FROM {target} WITH NO DATA"
        )
        self._cursor.execute(f"SELECT {names} FROM {stage_name}")
        self._types = types = [column.type_code for column in self._cursor.description]
        self._trusted = [_TRUSTED.get(oid, frozenset()) | {type(None)} for oid in types]
        trim = raw.info.server_version >= _TRIM_SCALE_SINCE
        printed = ", ".join(
            _printed(f"t.{preparer.quote(c)}", oid, trim)
            for c, oid in zip(columns, types, strict=True)
        )
        joined = " AND ".join(f"t.{preparer.quote(k)} = s.{preparer.quote(k)}" for k in spec.key)
        self._copy_in = f"COPY {stage_name} ({names}) FROM STDIN"
        self._digest = (
            "SELECT count(*), encode(sha256(convert_to(coalesce("
            "string_agg(line, E'\\n' ORDER BY line COLLATE \"C\"), ''), 'UTF8')), 'hex') "
            f"FROM (SELECT concat_ws(E'\\t', {printed}) AS line FROM {target} AS t "
            f"JOIN {stage_name} AS s ON {joined}) AS printed"
        )
        stage = sa.table(STAGE, *(sa.column(c) for c in columns), schema="pg_temp")
        self._merge = upsert_statement(
            "postgresql", spec, columns, source=sa.select(*(stage.c[c] for c in columns))
        )
        self._staged = False

    @staticmethod
    def usable(conn: Connection) -> bool:
        """psycopg 3 on a UTF-8 connection to PostgreSQL 11 or later."""
        info = getattr(conn.connection.dbapi_connection, "info", None)
        return (
            getattr(info, "encoding", None) == "utf-8"
            and getattr(info, "server_version", 0) >= _MIN_SERVER
        )

    @classmethod
    def open(cls, conn: Connection, spec: TableSpec, columns: Sequence[str]) -> CopyUpsert | None:
        """The COPY path for this transaction, or None where the role may not create
        temporary tables (``executemany`` then writes, as on other databases)."""
        allowed = conn.exec_driver_sql(
            "SELECT has_database_privilege(current_database(), 'TEMPORARY')"
        ).scalar()
        return cls(conn, spec, columns) if allowed else None

    def upsert(self, lines: list[bytes]) -> None:
        """Stage ``lines`` (replacing the previous batch) and merge them into the target."""
        if self._staged:
            self._cursor.execute(f"TRUNCATE {self._stage_name}")
        with self._cursor.copy(self._copy_in) as copy:
            copy.write(b"\n".join(lines) + b"\n")
        self._staged = True
        self._conn.execute(self._merge)

    def takes(self, text: CopyText) -> bool:
        """Do the columns take ``text`` as they take the values row by row? An integer
        column's input rejects ``5.0``, which the cast from a Decimal parameter accepts."""
        return not any(
            decimal.Decimal in kinds
            for kinds, oid in zip(text.kinds, self._types, strict=True)
            if oid in _INTEGERS
        )

    def vouches_for(self, text: CopyText) -> bool:
        """Would :meth:`holds` prove that every value of ``text`` reads back as sent?

        Not for a value of a kind its column's type reads back as another value (True
        in a text column, a string in a boolean one), nor for types not known here."""
        return all(
            kinds <= trusted for kinds, trusted in zip(text.kinds, self._trusted, strict=True)
        )

    def holds(self, text: CopyText) -> bool:
        """Does the target now hold the staged keys printing exactly as ``text``?"""
        count, digest = self._cursor.execute(self._digest).fetchone()
        return bool(count == len(text.lines) and digest == text.sha256)


def _printed(column: str, oid: int, trim: bool) -> str:
    """SQL printing one column as COPY text would (NULL as ``\\N``); ``timestamptz`` in
    UTC as aware datetimes are sent, whatever the session's time zone."""
    value = f"trim_scale({column})" if oid == _NUMERIC and trim else column
    text = f"concat({value})"  # concat() prints through the type's output function, as COPY
    if oid == _TIMESTAMPTZ:
        text = f"concat({column} AT TIME ZONE 'UTC', '+00:00')"
    if oid not in _PLAIN_OUTPUT:
        for char, escaped in _SQL_ESCAPES:
            text = f"replace({text}, {char}, {escaped})"
    return f"CASE WHEN {column} IS NULL THEN E'\\\\N' ELSE {text} END"
