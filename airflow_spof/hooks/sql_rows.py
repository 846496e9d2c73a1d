"""Rows in, rows out: batching of user input and the content checksum used to verify writes.

The checksum is computed on the client from a canonical encoding of each row,
so the same logical row hashes the same whatever dialect stored it (PostgreSQL
returns ``Decimal``, SQLite ``int``, MariaDB ``1`` for ``True``). The checksum
of a set of rows is the sum of the per-row SHA-256 values modulo 2**256: order
does not matter and, unlike XOR, two identical rows do not cancel out.

A value the database changed on the way in (a number rounded by NUMERIC(10,2),
a string cut or padded by its column type) hashes differently: verification
reports it instead of accepting silently altered data.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from airflow_spof.core.once import Once

Row = dict[str, Any]
T = TypeVar("T")
Key = tuple[Any, ...]

_MODULUS = 1 << 256


_PLAIN = (str, int, type(None))


def canonical(value: Any) -> str | None:
    """A dialect-independent text form of one column value (None stays NULL)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if kind is float:
        return _float(value)
    value = _native(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, decimal.Decimal):
        return _decimal(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (dict, list)):
        return json_text(value)
    return str(value)


def json_text(document: dict[str, Any] | list[Any]) -> str:
    """A document's canonical JSON (sorted keys, no spaces): how it is hashed, and how it
    is stored where the driver has no JSON binding."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)


def _float(value: float) -> str | None:
    """Shortest round-trip text, written the way a normalised Decimal is (1.0 -> 1)."""
    text = repr(value)
    if "e" in text or "n" in text:  # exponent, inf or nan
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return _decimal(decimal.Decimal(text))
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _decimal(value: decimal.Decimal) -> str:
    if value.is_nan():
        return "nan"
    if value.is_zero():
        return "0"
    # normalize() rounds to the context's precision (28 digits by default): give it all
    # the value's digits, so a NUMERIC(30,0) that rounded the value hashes differently.
    exact = decimal.Context(prec=max(1, len(value.as_tuple().digits)))
    return format(value.normalize(exact), "f")


def _native(value: Any) -> Any:
    """Unwrap numpy / pandas scalars and missing-value markers into plain Python."""
    if type(value) in _PLAIN:
        return value
    module = type(value).__module__
    if module.startswith("pandas"):
        if type(value).__name__ in ("NaTType", "NAType"):
            return None
        if hasattr(value, "to_pydatetime"):
            return value.to_pydatetime()
    if module.startswith("numpy") and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class RowHasher:
    """SHA-256 of a row's canonical values for a fixed column set (sorted by name).

    Each value is length-prefixed and NULL has its own marker, so no two
    different rows encode the same; column names are hashed once, up front.
    """

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = sorted(columns)
        self._base = hashlib.sha256("\x1f".join(self.columns).encode() + b"\x1e")

    def __call__(self, row: Mapping[str, Any]) -> int:
        return self.of_values([row.get(column) for column in self.columns])

    def of_values(self, values: Sequence[Any]) -> int:
        """The hash of a row given as values in ``self.columns`` order (a result tuple)."""
        parts = []
        for value in values:
            text = canonical(value)
            parts.append("-" if text is None else f"{len(text)}:{text}")
        digest = self._base.copy()
        digest.update("|".join(parts).encode())
        return int.from_bytes(digest.digest(), "big")


def row_hash(row: Mapping[str, Any], columns: Sequence[str]) -> int:
    """SHA-256 of the canonical encoding of ``columns`` of one row, as an integer."""
    return RowHasher(columns)(row)


def hex_hash(value: int) -> str:
    return f"{value:064x}"


class Digest:
    """Count and order-independent checksum of a set of rows, built incrementally."""

    def __init__(self) -> None:
        self.count = 0
        self._sum = 0

    @classmethod
    def of_rows(cls, rows: Iterable[Mapping[str, Any]], hasher: RowHasher) -> Digest:
        digest = cls()
        for row in rows:
            digest.add_hash(hasher(row))
        return digest

    def add_hash(self, value: int) -> None:
        self.count += 1
        self._sum = (self._sum + value) % _MODULUS

    def merge(self, other: Digest) -> None:
        self.count += other.count
        self._sum = (self._sum + other._sum) % _MODULUS

    @property
    def checksum(self) -> str:
        return hex_hash(self._sum)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Digest) and (self.count, self._sum) == (other.count, other._sum)


def rows_checksum(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """The checksum of ``rows`` (all their columns unless given): what a write acknowledges.

    Useful in read validators: compare what a replica returned with the
    checksum a write reported.
    """
    digest = Digest()
    hasher: RowHasher | None = RowHasher(columns) if columns is not None else None
    for row in rows:
        if hasher is None:
            hasher = RowHasher(list(row))
        digest.add_hash(hasher(row))
    return digest.checksum


def combine(hashes: Iterable[str]) -> str:
    """Combine per-row hex hashes (from ``fingerprints()``) into one table checksum."""
    digest = Digest()
    for value in hashes:
        digest.add_hash(int(value, 16))
    return digest.checksum


SHARED_BATCHES = 8
"""Batches a SharedRows keeps for replicas that have not reached them yet: bounds memory;
a replica further behind prepares its batch again."""


class SharedRows:
    """Rows upserted into several replicas, each batch prepared once for all of them.

    Each replica batches the same list or DataFrame the same way, so the rows at one
    offset are the same rows for all: the first replica to reach a batch normalises,
    checks, hashes and encodes it, the others take its result. Each replica still
    verifies what its own database stored. One-shot iterators are not accepted: each
    replica would read different rows from them.
    """

    def __init__(self, rows: Any) -> None:
        if not self.accepts(rows):
            raise TypeError("SharedRows needs a list (or sequence) of dicts or a DataFrame")
        self.rows = rows
        self._batches: Once[Hashable, Any] = Once(keep=SHARED_BATCHES)

    @staticmethod
    def accepts(rows: Any) -> bool:
        """Rows every replica can read again, identically: sequences and DataFrames."""
        if isinstance(rows, (str, bytes, Mapping)):
            return False
        return isinstance(rows, Sequence) or _is_dataframe(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        for batch in batches(self.rows, 1000):
            yield from batch

    def batch(
        self, start: int, size: int, variant: Hashable, prepare: Callable[[list[Row]], T]
    ) -> T:
        """The ``size`` rows at ``start``, normalised and passed through ``prepare`` by the
        first replica to ask for them with the same ``variant``; the others reuse that."""
        return self._batches.get(
            (start, size, variant), lambda: prepare(_normalised(self.rows, start, size))
        )


def _normalised(rows: Any, start: int, size: int) -> list[Row]:
    if _is_dataframe(rows):
        return _records(rows, start, size)
    return [_row(row) for row in rows[start : start + size]]


def _records(frame: Any, start: int, size: int) -> list[Row]:
    records = frame.iloc[start : start + size].to_dict("records")
    return [{str(k): _native(v) for k, v in r.items()} for r in records]


def _row(row: Any) -> Row:
    if not isinstance(row, Mapping):
        raise TypeError(f"each row must be a mapping of column -> value, got {type(row)}")
    return {str(k): _native(v) for k, v in row.items()}


def batches(rows: Any, size: int) -> Iterator[list[Row]]:
    """Rows from a list, any iterable of mappings or a pandas DataFrame, ``size`` at a time.

    Streaming: an iterable is consumed batch by batch, a DataFrame sliced, so
    memory is bounded by the batch size, not the payload.
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    if isinstance(rows, SharedRows):
        rows = rows.rows
    if _is_dataframe(rows):
        for start in range(0, len(rows), size):
            yield _records(rows, start, size)
        return
    if isinstance(rows, (Mapping, str, bytes)):
        raise TypeError("rows must be a list of dicts, an iterable of dicts or a DataFrame")
    batch: list[Row] = []
    for row in rows:
        batch.append(_row(row))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "iloc")
