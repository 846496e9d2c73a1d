"""Everything the example DAGs need, started for real on this machine.

Two S3 regions (separate moto_server processes), an on-prem directory, and
the warehouse databases (SQLite files by default, or URLs of real servers
such as throwaway PostgreSQL clusters), all wired up as Airflow connections
through ``AIRFLOW_CONN_*`` variables. The demo, the test suite and the
users' pytest plugin all stand on this one environment.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from airflow_spof.testing.moto_region import MotoRegion, conn_env_name

S3_CONNECTIONS = {"aws_use1": "us-east-1", "aws_euw1": "eu-west-1"}
BUCKETS = {
    "us-east-1": ("orders-landing-use1", "orders-curated-use1"),
    "eu-west-1": ("orders-landing-euw1", "orders-curated-euw1"),
}
SQL_CONNECTIONS = ("warehouse_use1", "warehouse_euw1", "warehouse_local")

_schema = sa.MetaData()
sa.Table(
    "orders",
    _schema,
    sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("customer", sa.String(100), nullable=False),
    sa.Column("amount", sa.Float, nullable=False),
    sa.Column("order_date", sa.String(10), nullable=False),
)
sa.Table(
    "daily_revenue",
    _schema,
    sa.Column("order_date", sa.String(10), primary_key=True),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("revenue", sa.Float, nullable=False),
)


def sample_orders(ds: str, count: int = 20) -> bytes:
    """A day of orders as CSV: deterministic, so re-runs write the same bytes."""
    lines = ["order_id,customer,amount,order_date"]
    day = int(ds.replace("-", ""))
    for i in range(count):
        lines.append(f"{day % 100000 * 1000 + i},customer-{i % 7},{(i * 37) % 500 + 0.5},{ds}")
    return ("\n".join(lines) + "\n").encode()


@dataclass
class ExampleEnvironment:
    """Start with :meth:`start`, stop with :meth:`stop` (or use it as a context manager).

    :param sql_urls: conn id -> SQLAlchemy URL for warehouse connections; any
        not given become SQLite files in the environment's directory.
    :param secret: the S3 connections' secret key (tests plant one to hunt for leaks).
    """

    sql_urls: Mapping[str, str] = field(default_factory=dict)
    secret: str = "spof-example-secret-key"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="spof-env-")))
    regions: dict[str, MotoRegion] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    _saved_env: dict[str, str | None] = field(default_factory=dict)

    @property
    def nfs_root(self) -> Path:
        return self.root / "nfs"

    def start(self) -> ExampleEnvironment:
        try:
            for region_name in BUCKETS:
                self.regions[region_name] = MotoRegion(region_name=region_name).start()
            self._connect()
            self.create_buckets()
            self.create_tables()
        except BaseException:
            self.stop()
            raise
        return self

    def _connect(self) -> None:
        self.nfs_root.mkdir(parents=True, exist_ok=True)
        self.env["SPOF_NFS_ROOT"] = str(self.nfs_root)
        for conn_id, region_name in S3_CONNECTIONS.items():
            name, value = self.regions[region_name].connection_env(conn_id, secret_key=self.secret)
            self.env[name] = value
        for conn_id in SQL_CONNECTIONS:
            url = self.sql_urls.get(conn_id) or f"sqlite:///{self.root / conn_id}.db"
            self.env[conn_env_name(conn_id)] = _connection_json(url)
        for key, value in self.env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        # The example DAGs' shared module reads SPOF_NFS_ROOT when imported; a copy
        # cached by an earlier environment in this process would point elsewhere.
        sys.modules.pop("replica_sets", None)

    def sql_url(self, conn_id: str) -> str:
        return self.sql_urls.get(conn_id) or f"sqlite:///{self.root / conn_id}.db"

    def create_buckets(self) -> None:
        """(Re)create the buckets: a restarted region comes back empty, as a lost one would."""
        for region_name, buckets in BUCKETS.items():
            region = self.regions[region_name]
            existing = {b["Name"] for b in region.client().list_buckets().get("Buckets", [])}
            for bucket in buckets:
                if bucket not in existing:
                    region.create_bucket(bucket)

    def create_tables(self) -> None:
        for conn_id in SQL_CONNECTIONS:
            engine = sa.create_engine(self.sql_url(conn_id))
            _schema.create_all(engine)
            engine.dispose()

    def land_orders(
        self, ds: str, regions: tuple[str, ...] = tuple(BUCKETS), data: bytes | None = None
    ) -> bytes:
        """Put a day's raw orders in the landing bucket of each given region."""
        payload = data if data is not None else sample_orders(ds)
        for region_name in regions:
            self.regions[region_name].client().put_object(
                Bucket=BUCKETS[region_name][0], Key=f"orders/{ds}.csv", Body=payload
            )
        return payload

    def rows(self, conn_id: str, table: str) -> list[dict[str, Any]]:
        engine = sa.create_engine(self.sql_url(conn_id))
        try:
            with engine.connect() as conn:
                result = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1"))
                return [dict(r) for r in result.mappings()]
        finally:
            engine.dispose()

    def stop(self) -> None:
        for region in self.regions.values():
            region.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ExampleEnvironment:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _connection_json(url: str) -> str:
    """An Airflow connection (JSON form) for a SQLAlchemy URL."""
    parsed = sa.engine.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return json.dumps({"conn_type": "sqlite", "host": parsed.database})
    conn_type = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}[backend]
    return json.dumps(
        {
            "conn_type": conn_type,
            "host": parsed.host,
            "port": parsed.port,
            "login": parsed.username,
            "password": parsed.password,
            "schema": parsed.database,
        }
    )
