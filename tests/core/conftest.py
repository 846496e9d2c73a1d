from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from airflow_spof.core.state import StateStore


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[StateStore]:
    s = StateStore.from_url(sqlite_url)
    yield s
    s.dispose()


@pytest.fixture
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str, str], str]:
    """``state_url(backend, name)``: a state-store URL on SQLite under ``tmp_path``, or on a
    fresh database ``name`` of the session's PostgreSQL cluster or MariaDB server (started
    only if asked for)."""

    def make(backend: str, name: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'{name}.db'}"
        server = request.getfixturevalue({"postgresql": "postgres", "mysql": "mariadb"}[backend])
        engine = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        engine.dispose()
        return str(server.url.rsplit("/", 1)[0] + f"/{name}")

    return make
