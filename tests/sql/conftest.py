"""Real databases for the SQL backend tests: two PostgreSQL clusters, MariaDB and a SQLite file.

Endpoints reach them through Airflow connections defined as ``AIRFLOW_CONN_*``
environment variables (URI and JSON forms), as a deployment would; the root
conftest gives the session a private AIRFLOW_HOME before Airflow is imported.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from airflow_spof.core.endpoints import Endpoint, sql
from airflow_spof.core.state import StateStore
from airflow_spof.hooks.sql_connection import dispose_engines
from airflow_spof.testing.mariadb import MariaDBServer
from airflow_spof.testing.postgres import PostgresCluster

# Planted in the PostgreSQL connections (trust auth ignores it): it must never show up.
SECRET = "Pl4nted-Sql-S3cret-9f2c"
CONN_IDS = {"pg1": "spof_pg1", "pg2": "spof_pg2", "maria": "spof_maria", "lite": "spof_lite"}
REGIONS = {"pg1": "eu-west", "pg2": "us-east", "maria": "eu-central", "lite": "onprem"}


@dataclass
class Databases:
    pg1: PostgresCluster
    pg2: PostgresCluster
    maria: MariaDBServer
    sqlite_path: Path
    admin_urls: dict[str, str] = field(default_factory=dict)

    def cluster(self, name: str) -> PostgresCluster:
        return {"pg1": self.pg1, "pg2": self.pg2}[name]


@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    """Start every server once per session; always stop them, even after a failed start."""
    started: list[Any] = []
    saved = {k: os.environ.get(k) for k in _conn_vars()}
    root = Path(tempfile.mkdtemp(prefix="spof-sql-"))
    try:
        pg1 = PostgresCluster().init().start()
        started.append(pg1)
        pg2 = PostgresCluster().init().start()
        started.append(pg2)
        maria = MariaDBServer()
        started.append(maria)
        maria.init().start()
        dbs = Databases(pg1, pg2, maria, root / "replica.db")
        dbs.admin_urls = {
            "pg1": pg1.url,
            "pg2": pg2.url,
            "maria": maria.url,
            "lite": f"sqlite:///{dbs.sqlite_path}",
        }
        for name, cluster in (("pg1", pg1), ("pg2", pg2)):
            os.environ[_var(name)] = (
                f"postgres://postgres:{SECRET}@127.0.0.1:{cluster.port}/postgres"
            )
        os.environ[_var("maria")] = f"mysql://root@127.0.0.1:{maria.port}/{maria.database}"
        os.environ[_var("lite")] = '{"conn_type": "sqlite", "host": "' + str(dbs.sqlite_path) + '"}'
        yield dbs
    finally:
        dispose_engines()
        for server in reversed(started):
            server.destroy()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _var(name: str) -> str:
    return f"AIRFLOW_CONN_{CONN_IDS[name].upper()}"


def _conn_vars() -> list[str]:
    return [_var(name) for name in CONN_IDS]


def orders_table(name: str) -> sa.Table:
    """The table every test writes: an integer key and a few typed columns."""
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(100)),
        sa.Column("amount", sa.Double),
        sa.Column("day", sa.Date),
    )


@dataclass
class Tables:
    """A fresh table on every database for one test, and endpoints pointing at it."""

    dbs: Databases
    name: str

    def endpoint(
        self, db: str, table: str | None = None, key: Any = "id", **options: Any
    ) -> Endpoint:
        ep = sql(CONN_IDS[db], table=table or self.name, key=key, name=db, region=REGIONS[db])
        if options:
            ep = Endpoint(**{**ep.to_dict(), "options": {**ep.options, **options}})
        return ep

    def admin(self, db: str) -> sa.Engine:
        return sa.create_engine(self.dbs.admin_urls[db], poolclass=sa.pool.NullPool)

    def count(self, db: str) -> int:
        engine = self.admin(db)
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {self.name}")).scalar_one())


@pytest.fixture
def tables(databases: Databases) -> Iterator[Tables]:
    name = f"orders_{uuid.uuid4().hex[:10]}"
    helper = Tables(databases, name)
    for db in databases.admin_urls:
        orders_table(name).create(helper.admin(db))
    yield helper
    for db in databases.admin_urls:
        if (
            db in ("pg1", "pg2")
            and not databases.cluster(db).data_dir.joinpath("postmaster.pid").exists()
        ):
            databases.cluster(db).start()
        orders_table(name).drop(helper.admin(db), checkfirst=True)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    state = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    yield state
    state.dispose()


def make_rows(count: int, start: int = 0, tag: str = "v1") -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "name": f"order-{i}-{tag}",
            "amount": round(i * 1.25, 2),
            "day": dt.date(2024, 1, 1) + dt.timedelta(days=i % 28),
        }
        for i in range(start, start + count)
    ]


@pytest.fixture
def rows() -> Any:
    """``rows(count, start=0, tag="v1")``: distinct, typed rows keyed by ``id``."""
    return make_rows


@pytest.fixture
def secret() -> str:
    return SECRET
