"""Bad query parameters are a 4xx, never a 500.

The routes run in the plugin's own FastAPI app over a real SQLite state store. Who the
viewer is does not matter here, so the viewer dependency is given; authentication
and per-DAG filtering through Airflow's auth manager are covered against a real
``airflow standalone`` in test_api.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from airflow_spof.core.state import STATE_URL_ENV
from airflow_spof.plugin import access
from airflow_spof.plugin.app import create_app


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv(STATE_URL_ENV, f"sqlite:///{tmp_path / 'state.db'}")
    app = create_app()
    app.dependency_overrides[access.viewer] = lambda: access.Viewer(
        "alice", frozenset({"orders"}), operational=True
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/api/task-instance", "/task-instance"])
@pytest.mark.parametrize("map_index", ["99999999999999999999999", "2147483648"])
def test_a_map_index_out_of_range_is_a_4xx(client: TestClient, path: str, map_index: str) -> None:
    params = {"dag_id": "orders", "run_id": "r", "task_id": "t", "map_index": map_index}
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("map_index", ["{MAP_INDEX}", "-1", "3"])
def test_a_map_index_the_ui_fills_in_or_leaves_unfilled_is_served(
    client: TestClient, map_index: str
) -> None:
    params = {"dag_id": "orders", "run_id": "r", "task_id": "t", "map_index": map_index}
    assert client.get("/api/task-instance", params=params).status_code == 200
