"""Test DAG for tests/sensors: wait for a TCP port and an HTTP endpoint, hand the names on.

The test sets the SPOF_SENSOR_* variables; the defaults only keep this file
importable when other tests parse the bundle.
"""

import json
import os
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_spof.sensors import UpstreamAvailabilitySensor, http, tcp

with DAG("spof_sensor_poke", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    wait = UpstreamAvailabilitySensor(
        task_id="wait",
        targets=[
            tcp("127.0.0.1", int(os.environ.get("SPOF_SENSOR_TCP_PORT", "9")), name="db-port"),
            http(os.environ.get("SPOF_SENSOR_HTTP_URL", "http://127.0.0.1:9/ok"), name="api"),
        ],
        min_available="all",
        mode="poke",
        poke_interval=0.2,
        timeout=60,
    )

    @task
    def record(healthy: list[str]) -> None:
        with open(os.environ["SPOF_SENSOR_OUT"], "w") as out:
            json.dump(healthy, out)

    record(wait.output)
