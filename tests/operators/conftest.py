"""The example DAGs' world for real: two S3 regions, two PostgreSQL warehouses, SQLite, a directory."""

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


@pytest.fixture(scope="session")
def example_env(airflow_db: None) -> Iterator[ExampleEnvironment]:
    clusters = [PostgresCluster().init().start() for _ in range(2)]
    env = ExampleEnvironment(
        sql_urls={"warehouse_use1": clusters[0].url, "warehouse_euw1": clusters[1].url},
        secret=PLANTED_SECRET,
    )
    try:
        yield env.start()
    finally:
        env.stop()
        for cluster in clusters:
            cluster.destroy()


@pytest.fixture
def env(example_env: ExampleEnvironment) -> Iterator[ExampleEnvironment]:
    """The session environment, with every region running and empty tables at the start."""
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
