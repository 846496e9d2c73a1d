"""Rows -> CSV / JSON Lines / Parquet -> rows keeps what each format can hold."""

from __future__ import annotations

import math
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from airflow_spof.formats import FORMATS, from_rows, to_frame, to_rows

ROWS: list[dict[str, Any]] = [
    {"id": 1, "zip": "02134", "amount": 9.5, "note": "naïve café 東京", "flag": True},
    {"id": None, "zip": "10001", "amount": None, "note": None, "flag": False},
    {"id": 3, "zip": "00501", "amount": float("nan"), "note": "", "flag": None},
]


def expected(rows: list[dict[str, Any]], fmt: str) -> list[dict[str, Any]]:
    """NaN reads back as None in every format; CSV cannot tell "" from None."""

    def value(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            return None
        if fmt == "csv" and v == "":
            return None
        return v

    return [{k: value(v) for k, v in r.items()} for r in rows]


def typed(rows: list[dict[str, Any]]) -> list[dict[str, tuple[str, Any]]]:
    """Values with their types: 1 and 1.0 compare equal, but an int column is not a float one."""
    return [{k: (type(v).__name__, v) for k, v in r.items()} for r in rows]


@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_round_trip(fmt: str) -> None:
    """Integers with gaps stay integers, zero-padded strings stay strings, unicode survives."""
    assert typed(to_rows(from_rows(ROWS, fmt), fmt)) == typed(expected(ROWS, fmt))


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_rows_round_trip(fmt: str) -> None:
    assert to_rows(from_rows([], fmt), fmt) == []


def test_a_header_only_csv_is_no_rows() -> None:
    assert to_rows(b"id,zip\n", "csv") == []


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_query_without_rows_keeps_its_columns(fmt: str) -> None:
    """An empty result written as CSV or Parquet still names its columns, so a quality gate
    reading it judges an empty table with those columns, not a file without any."""
    data = from_rows([], fmt, columns=["id", "zip"])
    assert to_rows(data, fmt) == []
    assert list(to_frame(data, fmt).columns) == ["id", "zip"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_empty_text_object_is_an_empty_frame(fmt: str) -> None:
    assert to_frame(b"", fmt).empty


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_text_formats_keep_dates_and_decimals_as_written(fmt: str) -> None:
    """Text formats hold dates and decimals as text: the text must come back, not a float or
    a pandas Timestamp guessed from a column name."""
    rows = [{"ordered_at": "2026-11-27", "price": "1.10", "sku": "0042"}]
    expect = {"jsonl": rows, "csv": [{**rows[0], "price": Decimal("1.10")}]}[fmt]
    assert typed(to_rows(from_rows(rows, fmt), fmt)) == typed(expect)


def test_csv_numbers_are_typed_when_nothing_is_lost() -> None:
    data = b"id,amount,price,ok\n1,2,9.90,True\n,1.5,10.00,\n"
    assert typed(to_rows(data, "csv")) == typed(
        [
            {"id": 1, "amount": 2.0, "price": Decimal("9.90"), "ok": True},
            {"id": None, "amount": 1.5, "price": Decimal("10.00"), "ok": None},
        ]
    )


def test_jsonl_writes_valid_json_for_nan() -> None:
    import json

    (line,) = from_rows([{"x": float("nan")}], "jsonl").decode().splitlines()
    assert json.loads(line, parse_constant=lambda c: pytest.fail(f"wrote {c}")) == {"x": None}


def test_parquet_keeps_dates_decimals_and_timestamps_as_python_values() -> None:
    rows = [
        {
            "day": date(2026, 11, 27),
            "price": Decimal("1.10"),
            "at": datetime(2026, 11, 27, 12, 30, tzinfo=timezone.utc),
        },
        {"day": None, "price": None, "at": None},
    ]
    assert typed(to_rows(from_rows(rows, "parquet"), "parquet")) == typed(rows)
