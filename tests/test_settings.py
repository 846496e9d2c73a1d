"""The [spof] configuration: environment first, Airflow config next, defaults last."""

from __future__ import annotations

import json

from airflow_spof.settings import SpofSettings, state_store


def test_state_store_from_an_airflow_connection(monkeypatch, tmp_path) -> None:
    db = tmp_path / "spof.db"
    monkeypatch.delenv("AIRFLOW__SPOF__STATE_STORE_URL", raising=False)
    monkeypatch.setenv("AIRFLOW__SPOF__STATE_STORE_CONN_ID", "spof_state")
    monkeypatch.setenv(
        "AIRFLOW_CONN_SPOF_STATE", json.dumps({"conn_type": "sqlite", "host": str(db)})
    )
    settings = SpofSettings.load()
    assert settings.state_store_url == f"sqlite:///{db}"
    assert state_store(settings.state_store_url).record_health("ep", True)
    assert db.exists()


def test_policies_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW__SPOF__BREAKER_FAILURE_THRESHOLD", "7")
    monkeypatch.setenv("AIRFLOW__SPOF__BREAKER_COOLDOWN", "12.5")
    monkeypatch.setenv("AIRFLOW__SPOF__ATTEMPTS", "4")
    monkeypatch.setenv("AIRFLOW__SPOF__STRAGGLER_TIMEOUT", "3")
    settings = SpofSettings.load()
    assert (settings.breaker.failure_threshold, settings.breaker.cooldown) == (7, 12.5)
    assert settings.failover.retry.attempts == 4 and settings.straggler_timeout == 3
