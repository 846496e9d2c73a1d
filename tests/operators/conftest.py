"""The example DAGs' world for real: two S3 regions, two PostgreSQL warehouses, SQLite, a dir."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from airflow_spof.testing.environment import ExampleEnvironment
from airflow_spof.testing.postgres import PostgresCluster

PLANTED_SECRET = "planted-Operator-Secret-51c3"
EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "dags"
CASE_DAGS = Path(__file__).resolve().parents[1] / "dags"


@pytest.fixture(scope="session")
def warehouses() -> Iterator[dict[str, PostgresCluster]]:
    """The two regional warehouses: real PostgreSQL clusters a test may crash."""
    clusters: dict[str, PostgresCluster] = {}
    try:
        for conn_id in ("warehouse_use1", "warehouse_euw1"):
            clusters[conn_id] = PostgresCluster().init().start()
        yield clusters
    finally:
        for cluster in clusters.values():
            cluster.destroy()


@pytest.fixture(scope="session")
def example_env(
    airflow_db: None, warehouses: dict[str, PostgresCluster]
) -> Iterator[ExampleEnvironment]:
    env = ExampleEnvironment(
        sql_urls={conn_id: cluster.url for conn_id, cluster in warehouses.items()},
        secret=PLANTED_SECRET,
    )
    try:
        yield env.start()
    finally:
        env.stop()


@pytest.fixture
def env(
    example_env: ExampleEnvironment, warehouses: dict[str, PostgresCluster]
) -> Iterator[ExampleEnvironment]:
    """The session environment, with every region running and empty tables at the start."""
    for cluster in warehouses.values():
        if not (cluster.data_dir / "postmaster.pid").exists():
            cluster.start()
    for region in example_env.regions.values():
        if not region.running:
            region.restart()
    example_env.create_buckets()
    for conn_id in ("warehouse_use1", "warehouse_euw1", "warehouse_local"):
        engine = sa.create_engine(example_env.sql_url(conn_id))
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM orders"))
            conn.execute(sa.text("DELETE FROM daily_revenue"))
        engine.dispose()
    yield example_env
    for region in example_env.regions.values():
        if not region.running:
            region.restart()


@pytest.fixture(scope="session")
def dagbag(example_env: ExampleEnvironment) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    # As for Airflow's own DAGs folder: modules beside the DAGs are importable.
    if str(EXAMPLE_DAGS) not in sys.path:
        sys.path.append(str(EXAMPLE_DAGS))
    bag = DagBag(dag_folder=str(EXAMPLE_DAGS))
    assert not bag.import_errors, bag.import_errors
    return bag


@pytest.fixture
def planted_secret() -> str:
    return PLANTED_SECRET


@pytest.fixture(scope="session")
def cases(example_env: ExampleEnvironment) -> Any:
    """The test DAGs of tests/dags, parsed once; none may have an import error."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(CASE_DAGS))
    assert not bag.import_errors, bag.import_errors
    return bag
