"""When did the data at an endpoint last change? S3 LastModified, file mtime, SQL max(column).

Kept beside the backends rather than in them: freshness is a question a
sensor asks, not part of the read/write protocol, so it uses each backend's
own client, engine or root directory.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow_spof import chaos
from airflow_spof.core.errors import InvalidData, PermanentError
from airflow_spof.hooks.backend import Backend, TableBackend
from airflow_spof.hooks.objects import RESERVED_PREFIX, clean_key
from airflow_spof.hooks.s3_errors import error_code
from airflow_spof.hooks.sql_dialect import check_identifier

_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class Stale(InvalidData):
    """The data is there but older than allowed (or missing): try the next replica."""


def last_modified(
    backend: Backend, key: str | None = None, *, column: str | None = None
) -> datetime | None:
    """The newest change time at ``backend`` (timezone-aware), or None when there is no data.

    Objects: ``key`` names one object, or a prefix when it ends with ``/``
    (the newest object under it counts). Tables: ``max(column)``; naive
    timestamps are taken as UTC.
    """
    endpoint = backend.endpoint
    timeout = getattr(getattr(backend, "timeouts", None), "read", None)
    chaos.before(endpoint, "freshness", timeout=timeout)
    if isinstance(backend, TableBackend):
        if not column:
            raise PermanentError(f"{endpoint.name}: freshness of a table needs timestamp_column")
        return _table_latest(backend, column)
    if not key:
        raise PermanentError(f"{endpoint.name}: freshness of an object store needs a key or prefix")
    if endpoint.kind == "s3":
        return _s3_latest(backend, key)
    return _fs_latest(backend, key)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _table_latest(backend: Any, column: str) -> datetime | None:
    check_identifier(column, "timestamp column", backend.endpoint.name)
    quoted = backend.engine.dialect.identifier_preparer.quote(column)
    rows = backend.query(f"SELECT max({quoted}) AS latest FROM {{table}}")
    value = rows[0]["latest"] if rows else None
    if value is None:
        return None
    if isinstance(value, str):  # SQLite keeps timestamps as text
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise PermanentError(
            f"{backend.endpoint.name}: column {column!r} holds {type(value).__name__}, "
            "not a timestamp"
        )
    return _aware(value)


def _s3_key(backend: Any, key: str) -> str:
    relative = clean_key(key, backend.endpoint.name)
    return f"{backend.prefix}/{relative}" if backend.prefix else relative


def _s3_latest(backend: Any, key: str) -> datetime | None:
    full = _s3_key(backend, key)
    if not key.endswith("/"):
        try:
            head = backend.client.head_object(Bucket=backend.bucket, Key=full)
        except Exception as exc:
            if error_code(exc) not in _MISSING_CODES:
                raise
            _require_bucket(backend)
            return None
        return _aware(head["LastModified"])
    newest: datetime | None = None
    pages = backend.client.get_paginator("list_objects_v2").paginate(
        Bucket=backend.bucket, Prefix=f"{full}/"
    )
    for page in pages:
        for item in page.get("Contents", []):
            if f"/{RESERVED_PREFIX}/" in f"/{item['Key']}":
                continue
            stamp = _aware(item["LastModified"])
            newest = stamp if newest is None or stamp > newest else newest
    return newest


def _require_bucket(backend: Any) -> None:
    """A HEAD answers a missing bucket with the same bare 404 as a missing key; tell them
    apart, or a misspelt bucket reads as "no data yet" and the sensor waits forever."""
    try:
        backend.client.head_bucket(Bucket=backend.bucket)
    except Exception as exc:
        if error_code(exc) in _MISSING_CODES | {"NoSuchBucket"}:
            raise PermanentError(
                f"{backend.endpoint.name}: bucket {backend.bucket!r} does not exist"
            ) from None
        raise


def _fs_latest(backend: Any, key: str) -> datetime | None:
    root = Path(backend.root)
    if not root.is_dir():
        raise FileNotFoundError(f"{backend.endpoint.name}: directory {root} does not exist")
    prefix = str(backend.endpoint.options.get("prefix") or "").strip("/")
    relative = clean_key(key, backend.endpoint.name)
    target = root / prefix / relative if prefix else root / relative
    if not key.endswith("/"):
        return _mtime(target) if target.is_file() else None
    newest: float | None = None
    for folder, dirs, files in os.walk(target):
        dirs[:] = [d for d in dirs if not d.startswith(RESERVED_PREFIX)]
        for name in files:
            if name.startswith(RESERVED_PREFIX):
                continue
            stamp = os.stat(os.path.join(folder, name)).st_mtime
            newest = stamp if newest is None or stamp > newest else newest
    return None if newest is None else datetime.fromtimestamp(newest, timezone.utc)


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
