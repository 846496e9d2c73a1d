"""Bytes <-> rows for the formats data engineers move between objects and tables."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

FORMATS = ("csv", "jsonl", "parquet")
_SUFFIXES = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


class FormatError(ValueError):
    """Data that cannot be read or written in the declared format."""


def check_format(declared: str | None) -> str | None:
    """A declared format, or None (the key's suffix will name it); checked at DAG parse time."""
    if declared is not None and declared not in FORMATS:
        raise FormatError(f"unknown format {declared!r}; use one of {FORMATS}")
    return declared


def infer_format(key: str, declared: str | None = None) -> str:
    """The declared format, else the one the key's suffix names."""
    if declared:
        return str(check_format(declared))
    for suffix, fmt in _SUFFIXES.items():
        if key.lower().endswith(suffix):
            return fmt
    raise FormatError(f"cannot tell the format of {key!r}: name it with format= ({FORMATS})")


def to_frame(data: bytes, fmt: str) -> Any:
    """Parse bytes into a pandas DataFrame."""
    import pandas as pd

    if fmt != "parquet" and not data.strip():
        return pd.DataFrame()  # no rows and no header: an empty object, as to_rows sees it
    try:
        if fmt == "csv":
            return pd.read_csv(io.BytesIO(data))
        if fmt == "jsonl":
            return pd.read_json(io.BytesIO(data), lines=True)
        if fmt == "parquet":
            return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:
        raise FormatError(f"data is not valid {fmt}: {exc}") from exc
    raise FormatError(f"unknown format {fmt!r}")


def to_rows(data: bytes, fmt: str) -> list[dict[str, Any]]:
    """Parse bytes into rows of plain Python values; an empty object is no rows.

    JSON Lines keeps JSON's own types and Parquet its schema's (dates, decimals,
    timestamps); a CSV column becomes ints, floats, Decimals or bools only when
    every value keeps its text, so "02134" stays a string and "1.10" a Decimal.
    """
    if fmt not in FORMATS:
        raise FormatError(f"unknown format {fmt!r}")
    if fmt != "parquet" and not data.strip():
        return []
    try:
        if fmt == "jsonl":
            return [_json_row(line) for line in data.decode("utf-8").splitlines() if line.strip()]
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return [_native_row(r) for r in pq.read_table(io.BytesIO(data)).to_pylist()]
        return _csv_rows(data)
    except FormatError:
        raise
    except Exception as exc:
        raise FormatError(f"data is not valid {fmt}: {exc}") from exc


def from_rows(
    rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None
) -> bytes:
    """Serialise rows; the same rows always give the same bytes (idempotent re-runs).

    Columns are ``columns`` (a query's, which it has even without rows: CSV keeps
    them as its header, Parquet as its schema) then any other keys of the rows, in
    order of first appearance; None and NaN are written as empty CSV cells, JSON
    null and Parquet null.
    """
    rows = [_native_row(r) for r in rows]
    columns = list(dict.fromkeys([*(columns or ()), *(k for r in rows for k in r)]))
    if fmt == "csv":
        if not columns:
            return b""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_csv_cell(r.get(c)) for c in columns] for r in rows)
        return text.getvalue().encode()
    if fmt == "jsonl":
        return "".join(json.dumps(r, default=str, sort_keys=True) + "\n" for r in rows).encode()
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pa.table({c: [r.get(c) for r in rows] for c in columns})
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise FormatError(f"rows cannot be written as parquet: {exc}") from exc
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return buffer.getvalue()
    raise FormatError(f"unknown format {fmt!r}")


def _json_row(line: str) -> dict[str, Any]:
    row = json.loads(line)
    if not isinstance(row, dict):
        raise FormatError(f"a JSON Lines row must be an object, got {line[:80]!r}")
    return _native_row(row)


def _csv_cell(value: Any) -> Any:
    return "" if value is None else value


def _csv_rows(data: bytes) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = next(reader, None)
    if not header:
        return []
    columns: list[list[str]] = [[] for _ in header]
    for line, record in enumerate(reader, start=2):
        if len(record) != len(header):
            raise FormatError(f"CSV line {line} has {len(record)} cells, the header {len(header)}")
        for cells, cell in zip(columns, record, strict=True):
            cells.append(cell)
    typed = [_csv_column(cells) for cells in columns]
    rows = zip(*typed, strict=True)
    return [_native_row(dict(zip(header, values, strict=True))) for values in rows]


def _csv_column(cells: list[str]) -> list[Any]:
    """The column's cells as the first type whose values all keep their text, else strings.

    "02134" is no int and "1.10" no float (the zero is lost); "1.10" is a Decimal.
    """
    present = [c for c in cells if c != ""]
    for parse in (int, float, Decimal, _bool):
        try:
            values = [parse(c) for c in present]
        except (ValueError, ArithmeticError):
            continue
        if all(_keeps_text(v, c) for v, c in zip(values, present, strict=True)):
            parsed = iter(values)
            return [next(parsed) if c != "" else None for c in cells]
    return [c if c != "" else None for c in cells]


def _keeps_text(value: Any, cell: str) -> bool:
    if isinstance(value, float) and _is_int_text(cell):  # "2" in a column of floats
        return True
    if isinstance(value, Decimal) and not value.is_finite():
        return False
    return str(value) == cell


def _is_int_text(cell: str) -> bool:
    try:
        return str(int(cell)) == cell
    except ValueError:
        return False


def _bool(cell: str) -> bool:
    if cell not in ("True", "False"):
        raise ValueError(cell)
    return cell == "True"


def _native_row(row: dict[str, Any]) -> dict[str, Any]:
    """numpy scalars and NaN -> plain Python values a database driver and XCom accept."""
    import math

    clean: dict[str, Any] = {}
    for key, value in row.items():
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        clean[str(key)] = value
    return clean
