"""One real ``airflow standalone`` with the plugin, run through a regional outage.

Package-scoped so every UI test shares one stack (it takes ~20 s to start):
two S3 regions (moto_server processes), us-east-1 killed before the DAG
runs, and three users: admin, a viewer, and ``outsider`` whose role grants
no DAG (SimpleAuthManager: an empty role authorises nothing).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_spof.testing.moto_region import MotoRegion
from airflow_spof.testing.standalone import PASSWORD_FILE, AirflowStandalone, StandaloneError

DAGS = Path(__file__).parent / "dags"
DAG_ID = "spof_ui_outage"
EAST_SOURCE = "s3:aws_east/landing-east"
WEST_SOURCE = "s3:aws_west/landing-west"
EAST_REPLICA = "s3:aws_east/curated-east"
ORDERS = b"order_id,amount\n1,10.5\n2,20.0\n"


@dataclass
class OutageStack:
    airflow: AirflowStandalone
    run_id: str
    password: str  # planted in both connections; must never be shown

    dag_id = DAG_ID
    east_source = EAST_SOURCE
    west_source = WEST_SOURCE
    east_replica = EAST_REPLICA

    @property
    def base_url(self) -> str:
        return self.airflow.base_url

    def password_of(self, username: str) -> str:
        """SimpleAuthManager's generated login password for ``username``."""
        passwords = json.loads((self.airflow.home / PASSWORD_FILE).read_text())
        return str(passwords[username])

    def token_for(self, username: str) -> str:
        response = httpx.post(
            f"{self.base_url}/auth/token",
            json={"username": username, "password": self.password_of(username)},
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def get(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{self.base_url}{path}", headers=headers, params=params, timeout=30)


@pytest.fixture(scope="package")
def outage() -> Iterator[OutageStack]:
    password = f"planted-{secrets.token_hex(12)}"
    east, west = MotoRegion("us-east-1"), MotoRegion("eu-west-1")
    airflow: AirflowStandalone | None = None
    try:
        for region, buckets in (
            (east, ("landing-east", "curated-east")),
            (west, ("landing-west", "curated-west")),
        ):
            region.start()
            for bucket in buckets:
                region.create_bucket(bucket)
            region.client().put_object(Bucket=buckets[0], Key="orders.csv", Body=ORDERS)
        env = {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer,outsider:",
            "AIRFLOW__SPOF__ATTEMPTS": "1",
            "AIRFLOW__SPOF__BREAKER_FAILURE_THRESHOLD": "1",
            "AIRFLOW__SPOF__BREAKER_COOLDOWN": "3600",
            "AIRFLOW__SPOF__CHAOS_VARIABLE": "false",
        }
        for name, region in (("aws_east", east), ("aws_west", west)):
            key, value = region.connection_env(name, secret_key=password)
            env[key] = value
        airflow = AirflowStandalone(DAGS, env=env).start()
        airflow.wait_until_dag_parsed(DAG_ID)
        east.kill()  # the regional outage: the region and its data are gone
        airflow.unpause(DAG_ID)
        run_id = airflow.trigger(DAG_ID)
        try:
            airflow.wait_for_run(DAG_ID, run_id, {"success"}, timeout=180)
        except StandaloneError as exc:
            log = airflow.task_log(DAG_ID, run_id, "copy_orders")
            raise StandaloneError(f"{exc}\n--- copy_orders log ---\n{log[-6000:]}") from None
        yield OutageStack(airflow, run_id, password)
    finally:
        if airflow is not None:
            airflow.stop()
        east.stop()
        west.stop()
