"""Bytes <-> rows for the formats data engineers move between objects and tables."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
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


def infer_format(key: str, declared: str | None = None) -> str:
    """The declared format, else the one the key's suffix names."""
    if declared:
        if declared not in FORMATS:
            raise FormatError(f"unknown format {declared!r}; use one of {FORMATS}")
        return declared
    for suffix, fmt in _SUFFIXES.items():
        if key.lower().endswith(suffix):
            return fmt
    raise FormatError(f"cannot tell the format of {key!r}: name it with format= ({FORMATS})")


def to_frame(data: bytes, fmt: str) -> Any:
    """Parse bytes into a pandas DataFrame."""
    import pandas as pd

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
    frame = to_frame(data, fmt)
    return [_native_row(r) for r in frame.to_dict(orient="records")]


def from_rows(rows: Sequence[dict[str, Any]], fmt: str) -> bytes:
    """Serialise rows; the same rows always give the same bytes (idempotent re-runs)."""
    import pandas as pd

    frame = pd.DataFrame(list(rows))
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    if fmt == "jsonl":
        return "".join(json.dumps(r, default=str, sort_keys=True) + "\n" for r in rows).encode()
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise FormatError(f"unknown format {fmt!r}")


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
