"""The availability sensor inside a DAG through ``dag.test()``: pokes until the upstream returns.

The upstream (a TCP port) is down when the run starts and comes back once
the sensor has recorded it as down; the downstream task receives the
sensor's XCom (the healthy target names).
"""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from airflow_spof.core.state import StateStore
from airflow_spof.testing.waiting import wait_until

DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "spof_sensor_poke.py"


@pytest.fixture
def load_dag(airflow_db: None) -> Any:
    """Import the DAG file (from the ``tests`` bundle, where dag.test() also finds it)."""

    def load() -> Any:
        spec = importlib.util.spec_from_file_location("spof_sensor_poke", DAG_FILE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.dag

    return load


def test_sensor_pokes_until_the_upstream_is_back(
    load_dag: Any,
    listener_factory: Any,
    store: StateStore,
    http_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listener = listener_factory()
    out = tmp_path / "healthy.json"
    monkeypatch.setenv("SPOF_SENSOR_TCP_PORT", str(listener.port))
    monkeypatch.setenv("SPOF_SENSOR_HTTP_URL", f"{http_server}/ok")
    monkeypatch.setenv("SPOF_SENSOR_OUT", str(out))
    dag = load_dag()

    def bring_back_once_seen_down() -> None:
        seen = wait_until(lambda: store.health_of(["db-port"]).get("db-port"), timeout=60)
        assert not seen.healthy
        listener.start()

    helper = threading.Thread(target=bring_back_once_seen_down)
    helper.start()
    try:
        run = dag.test()
    finally:
        helper.join()
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == {"wait": "success", "record": "success"}
    assert json.loads(out.read_text()) == ["db-port", "api"]
    assert store.health_of(["db-port"])["db-port"].healthy is True
