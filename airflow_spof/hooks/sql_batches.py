"""Batches of rows as a table replica writes them: normalised, checked, hashed and encoded.

Every replica of one write needs the same work on the same rows: check that all rows
have the same columns and a unique, non-NULL key, hash them for the acknowledgement
and encode them for COPY. When the rows are :class:`SharedRows` that work is done once
per batch, by the first replica to reach it; the others only send the result.
Problems in the rows are the same for every replica, so their errors name no replica.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from airflow_spof.hooks.sql_copy import CopyText
from airflow_spof.hooks.sql_dialect import check_identifier
from airflow_spof.hooks.sql_errors import SqlPermanentError
from airflow_spof.hooks.sql_rows import Digest, Key, Row, RowHasher, SharedRows, batches


@dataclass(frozen=True)
class Batch:
    """One batch of a write, ready to send to any replica."""

    columns: tuple[str, ...]
    rows: list[Row]
    keys: list[Key]
    digest: Digest
    """Count and checksum of the rows as sent: what every replica must hold afterwards."""
    text: CopyText | None
    """The rows as COPY text, when asked for and every value has an exact text form."""


def write_batches(rows: Any, size: int, key: tuple[str, ...], text: bool) -> Iterator[Batch]:
    """``rows`` (a list, an iterable, a DataFrame or SharedRows) as checked batches of
    ``size``; ``text``: also encode them for COPY. A key repeated across batches is an
    error too, raised before the batch that repeats it is yielded."""
    columns: tuple[str, ...] = ()
    seen: set[Key] = set()
    if isinstance(rows, SharedRows):
        for start in range(0, len(rows), size):
            prepare = partial(_prepare, key=key, columns=columns, text=text)
            batch = rows.batch(start, size, (key, columns, text), prepare)
            columns = batch.columns
            yield _unseen(batch, seen)
        return
    for raw in batches(rows, size):
        batch = _prepare(raw, key=key, columns=columns, text=text)
        columns = batch.columns
        yield _unseen(batch, seen)


def _prepare(rows: list[Row], key: tuple[str, ...], columns: tuple[str, ...], text: bool) -> Batch:
    columns = columns or _columns(rows[0], key)
    keys = _keys(rows, columns, key)
    digest = Digest.of_rows(rows, RowHasher(columns))
    return Batch(columns, rows, keys, digest, CopyText.of(rows, columns) if text else None)


def _columns(first: Row, key: tuple[str, ...]) -> tuple[str, ...]:
    columns = tuple(check_identifier(c, "column", "rows") for c in first)
    missing = [k for k in key if k not in first]
    if missing:
        raise SqlPermanentError(f"rows lack key column(s) {missing}; every row needs {list(key)}")
    return columns


def _keys(rows: list[Row], columns: tuple[str, ...], key: tuple[str, ...]) -> list[Key]:
    """Same columns in every row, no NULL or repeated key: ambiguity is an error."""
    expected = set(columns)
    keys: list[Key] = []
    for row in rows:
        if row.keys() != expected:
            for column in sorted(set(row) - expected):
                check_identifier(column, "column", "rows")
            raise SqlPermanentError(
                f"a row has columns {sorted(row)}, the first had {sorted(expected)}; "
                "all rows of one write need the same columns"
            )
        row_key = tuple(row[k] for k in key)
        if any(v is None for v in row_key):
            raise SqlPermanentError(f"a row has a NULL key {row_key}")
        keys.append(row_key)
    if len(set(keys)) != len(keys):
        _unseen_keys(keys, set())
    return keys


def _unseen(batch: Batch, seen: set[Key]) -> Batch:
    _unseen_keys(batch.keys, seen)
    return batch


def _unseen_keys(keys: list[Key], seen: set[Key]) -> None:
    for row_key in keys:
        if row_key in seen:
            raise SqlPermanentError(
                f"key {row_key} appears twice in one write; which version wins would be arbitrary"
            )
        seen.add(row_key)
