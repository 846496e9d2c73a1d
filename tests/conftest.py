"""Session-wide isolation: a private AIRFLOW_HOME and state store before anything imports Airflow."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="spof-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_HOME / 'airflow.db'}")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(_HOME / "dags"))
os.environ.setdefault("AIRFLOW__SPOF__STATE_STORE_URL", f"sqlite:///{_HOME / 'spof_state.db'}")
os.environ["AIRFLOW__SPOF__CHAOS_VARIABLE"] = "false"
os.environ.pop("AIRFLOW_SPOF_FAULTS", None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """One real PostgreSQL cluster for the session (see airflow_spof.testing.postgres)."""
    from airflow_spof.testing.postgres import PostgresCluster

    cluster = PostgresCluster().init().start()
    try:
        yield cluster
    finally:
        cluster.destroy()
