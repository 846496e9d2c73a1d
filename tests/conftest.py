"""Session-wide isolation: a private AIRFLOW_HOME and state store, set before Airflow loads."""

from __future__ import annotations

import json
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

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = REPO / "dags"
TEST_DAGS = REPO / "tests" / "dags"
# dag.test() finds a DAG by walking the configured bundles: the example DAGs
# users copy, and DAGs that exist only for tests.
os.environ.setdefault(
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST",
    json.dumps(
        [
            {
                "name": name,
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(path)},
            }
            for name, path in (("examples", EXAMPLE_DAGS), ("tests", TEST_DAGS))
        ]
    ),
)
os.environ.pop("AIRFLOW_SPOF_FAULTS", None)

# Importing Airflow replaces the root logger's handlers. Done here, before any test, so it
# cannot remove pytest's caplog handler in the middle of the first test that loads it.
import airflow  # noqa: E402, F401


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """An initialised metadata database for dag.test() (SQLite under the session's home)."""
    from airflow.utils import db

    db.initdb()


@pytest.fixture(scope="session")
def mariadb() -> Iterator[object]:
    """One real MariaDB server for the session (see airflow_spof.testing.mariadb)."""
    from airflow_spof.testing.mariadb import MariaDBServer

    server = MariaDBServer()
    try:
        yield server.init().start()
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """One real PostgreSQL cluster for the session (see airflow_spof.testing.postgres)."""
    from airflow_spof.testing.postgres import PostgresCluster

    cluster = PostgresCluster().init().start()
    try:
        yield cluster
    finally:
        cluster.destroy()
