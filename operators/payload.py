"""Where a write's data comes from, and how it becomes bytes or rows for the replicas."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from airflow_spof.core.endpoints import Replicas, ReplicaSetError
from airflow_spof.formats import from_rows, infer_format, to_rows

OBJECT_KINDS = {"s3", "fs"}


def holds_tables(replicas: Replicas, role: str) -> bool:
    """True for SQL sets, False for object sets; a mix cannot take one payload."""
    if replicas.kinds <= OBJECT_KINDS:
        return False
    if replicas.kinds == {"sql"}:
        return True
    raise ReplicaSetError(
        f"{role} mixes object and table endpoints ({sorted(replicas.kinds)}): "
        "one write cannot be both bytes and rows; split it into two replica sets"
    )


def open_path(path: Any, conn_id: str | None) -> Any:
    """A local path, an ObjectStoragePath, or a URI ObjectStoragePath understands.

    ``file://`` works as installed; ``s3://`` and other fsspec schemes need their
    filesystem package (``s3fs`` for S3, e.g. ``apache-airflow-providers-amazon[s3fs]``).
    """
    if hasattr(path, "open") and not isinstance(path, (str, Path)):
        return path.open("rb")
    if "://" in str(path):
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(str(path), conn_id=conn_id).open("rb")
    return Path(path).open("rb")


def as_bytes(data: Any, key: str, fmt: str | None) -> bytes | Iterable[bytes]:
    """Bytes for an object replica: raw bytes/text as given, rows serialised by format."""
    if isinstance(data, (bytes, str)):
        return data.encode() if isinstance(data, str) else data
    if is_frame(data):  # a DataFrame is rows too, as documented for ``data``
        data = data.to_dict(orient="records")
    if isinstance(data, list) and all(isinstance(r, dict) for r in data):
        return from_rows(data, infer_format(key, fmt))
    raise TypeError(
        f"cannot write {type(data).__name__} to an object: give bytes, text, rows or a DataFrame"
    )


def is_frame(data: Any) -> bool:
    """A pandas DataFrame, recognised without importing pandas."""
    return any(
        c.__name__ == "DataFrame" and c.__module__.startswith("pandas") for c in type(data).__mro__
    )


def as_rows(data: Any, fmt: str | None) -> Any:
    """Rows for a table replica: rows or a DataFrame as given, bytes parsed by format."""
    if isinstance(data, (bytes, str)):
        if not fmt:
            raise ValueError("bytes written to a table need format= (csv, jsonl or parquet)")
        return to_rows(data.encode() if isinstance(data, str) else data, fmt)
    return data
