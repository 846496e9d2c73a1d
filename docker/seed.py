"""Demo data for the compose stack, run once by ``airflow-init``.

Creates the warehouse tables the example DAGs load into and lands the last
few days of raw orders in both landing regions, so ``resilient_orders_etl``
has something to read the moment it is unpaused. Idempotent: re-running
rewrites the same bytes.
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any

import boto3
import sqlalchemy as sa
from botocore.config import Config

from airflow_spof.testing.environment import (
    BUCKETS,
    S3_CONNECTIONS,
    SQL_CONNECTIONS,
    ExampleEnvironment,
    sample_orders,
)

DAYS = int(os.environ.get("SPOF_SEED_DAYS", "3"))


def _connection(conn_id: str) -> dict[str, Any]:
    """The JSON connection compose passes as ``AIRFLOW_CONN_<ID>``."""
    return dict(json.loads(os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"]))


def _sql_url(conn: dict[str, Any]) -> sa.URL:
    if conn["conn_type"] == "sqlite":
        os.makedirs(os.path.dirname(conn["host"]), exist_ok=True)
        return sa.URL.create("sqlite", database=conn["host"])
    return sa.URL.create(
        "postgresql+psycopg",
        username=conn.get("login"),
        password=conn.get("password"),
        host=conn.get("host"),
        port=conn.get("port"),
        database=conn.get("schema"),
    )


def create_tables() -> None:
    urls = {conn_id: _sql_url(_connection(conn_id)) for conn_id in SQL_CONNECTIONS}
    rendered = {conn_id: url.render_as_string(hide_password=False) for conn_id, url in urls.items()}
    ExampleEnvironment(sql_urls=rendered).create_tables()
    for conn_id, url in urls.items():
        print(f"tables ready on {conn_id} ({url.render_as_string()})")


def land_orders() -> None:
    today = datetime.date.today()
    for conn_id, region in S3_CONNECTIONS.items():
        conn = _connection(conn_id)
        client = boto3.client(
            "s3",
            endpoint_url=conn["extra"]["endpoint_url"],
            region_name=region,
            aws_access_key_id=conn["login"],
            aws_secret_access_key=conn["password"],
            config=Config(retries={"total_max_attempts": 3}),
        )
        landing = BUCKETS[region][0]
        for back in range(DAYS):
            ds = (today - datetime.timedelta(days=back)).isoformat()
            client.put_object(Bucket=landing, Key=f"orders/{ds}.csv", Body=sample_orders(ds))
        print(f"landed {DAYS} days of orders in {region} ({landing})")


if __name__ == "__main__":
    create_tables()
    land_orders()
