"""pytest plugin (entry point ``pytest11``): drill your own DAGs in your own tests.

    def test_orders_survive_a_region_outage(spof_drill):
        report = spof_drill("orders_etl", faults=["region:us-east-1=down"])
        assert report.passed, report.reasons()

``spof_drill`` runs the DAG with real ``dag.test()`` under the faults, lifts
them, repairs every replica set the DAG uses and fingerprints the replicas
(see :mod:`airflow_spof.testing.drill`). Configure Airflow for tests as
usual (AIRFLOW_HOME, a SQLite metadata DB, your DAGs folder) before Airflow
is imported; override ``spof_dags_folder`` when your DAGs live elsewhere.
This module imports nothing from Airflow until a fixture is used, so it
never configures Airflow behind your conftest's back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spof_dags_folder() -> Path:
    """The DAGs folder to load (default: Airflow's ``[core] dags_folder``)."""
    from airflow.configuration import conf

    return Path(conf.get("core", "dags_folder"))


@pytest.fixture(scope="session")
def spof_airflow_db() -> None:
    """Create the metadata tables ``dag.test()`` needs (idempotent)."""
    from airflow.utils import db

    db.initdb()


@pytest.fixture(scope="session")
def spof_dags(spof_dags_folder: Path, spof_airflow_db: None) -> Any:
    """The parsed DAGs folder (import errors fail the session with their message)."""
    from airflow_spof.commands.dagfolder import DagFolder

    return DagFolder.load(spof_dags_folder.resolve())


@pytest.fixture(scope="session")
def spof_example_env() -> Iterator[Any]:
    """The example DAGs' world: two moto S3 regions, an NFS directory, SQLite warehouses."""
    from airflow_spof.testing.environment import ExampleEnvironment

    with ExampleEnvironment() as env:
        yield env


@pytest.fixture
def spof_drill(spof_dags: Any) -> Callable[..., Any]:
    """``spof_drill(dag_id, faults=[...], replica_sets=None) -> DrillReport``."""
    from airflow_spof.testing.drill import replica_sets_of, run_drill

    def drill(dag_id: str, faults: Iterable[str], replica_sets: Iterable[Any] | None = None) -> Any:
        dag = spof_dags.dag(dag_id)
        sets = (
            list(replica_sets) if replica_sets is not None else list(replica_sets_of(dag).values())
        )
        return run_drill(dag, list(faults), sets)

    return drill


def assert_survives(report: Any) -> None:
    """Fail with the drill's own reasons unless the run succeeded and every replica converged."""
    __tracebackhide__ = True
    if not report.passed:
        pytest.fail(f"drill of {report.dag_id} failed: " + "; ".join(report.reasons()))
