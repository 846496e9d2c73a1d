"""Connection secrets the API server knows, so pages can scrub them out.

Event messages are scrubbed where they are written; this is defence in
depth for anything that slipped through (a backend quoting its own URL, a
third-party exception echoing a header). Secrets come from the metadata
database's connections and from ``AIRFLOW_CONN_*`` variables in this
process's environment, cached briefly so a page view costs one query.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from airflow_spof.core.errors import scrub

log = logging.getLogger(__name__)

CACHE_SECONDS = 30.0
_lock = threading.Lock()
_cache: tuple[float, tuple[str, ...]] = (0.0, ())


def _connection_secrets(conn: Any) -> Iterator[str]:
    if conn.password:
        yield str(conn.password)
    extra = conn.extra_dejson or {}
    for key, value in extra.items():
        if isinstance(value, str) and any(
            word in key.lower() for word in ("secret", "password", "token", "key")
        ):
            yield value


def _from_environment() -> Iterator[str]:
    from airflow.models.connection import Connection

    for name, value in os.environ.items():
        if not name.startswith("AIRFLOW_CONN_") or not value:
            continue
        try:
            conn = (
                Connection.from_json(value, conn_id=name[13:].lower())
                if value.lstrip().startswith("{")
                else Connection(conn_id=name[13:].lower(), uri=value)
            )
        except Exception:  # an unparsable variable holds no secret we could recognise
            continue
        yield from _connection_secrets(conn)


def _from_metadata_db() -> Iterator[str]:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        for conn in session.scalars(select(Connection)):
            yield from _connection_secrets(conn)


def known_secrets() -> tuple[str, ...]:
    """Every connection secret visible to this process (refreshed every 30 s)."""
    global _cache
    with _lock:
        fetched_at, secrets = _cache
        if time.monotonic() - fetched_at < CACHE_SECONDS:
            return secrets
        found: set[str] = set(_from_environment())
        try:
            found.update(_from_metadata_db())
        except Exception as exc:  # pages must still render; patterns still scrub
            log.warning("spof: could not read connections to scrub: %s", type(exc).__name__)
        secrets = tuple(sorted((s for s in found if len(s) >= 4), key=len, reverse=True))
        _cache = (time.monotonic(), secrets)
        return secrets


def scrub_all(value: Any, secrets: Iterable[str]) -> Any:
    """Scrub every string inside a JSON-like value (dicts, lists, scalars)."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {scrub_all(k, secrets): scrub_all(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_all(v, secrets) for v in value]
    return value
