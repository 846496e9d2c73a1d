from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_spof.core.state import StateStore


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[StateStore]:
    s = StateStore.from_url(sqlite_url)
    yield s
    s.dispose()
