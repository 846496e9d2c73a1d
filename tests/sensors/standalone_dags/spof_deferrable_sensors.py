"""DAGs for the real-triggerer tests: each waits on upstreams the test controls.

Ports and the PostgreSQL URL come from the environment the test gives the
standalone deployment (the same for the dag-processor, worker and triggerer).
"""

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_spof.core.endpoints import sql
from airflow_spof.sensors import UpstreamAvailabilitySensor, tcp

START = datetime(2024, 1, 1)
HOST = "127.0.0.1"


def port(name: str) -> int:
    return int(os.environ[f"SPOF_TEST_{name}_PORT"])


with DAG("spof_defer_recovers", schedule=None, start_date=START):
    UpstreamAvailabilitySensor(
        task_id="wait",
        targets=[
            tcp(HOST, port("LATE"), name="late-port"),
            sql(os.environ["SPOF_TEST_PG_URL"], table="events", name="late-db"),
        ],
        min_available="all",
        deferrable=True,
        poke_interval=0.5,
        timeout=300,
    )

for dag_id, soft_fail in (("spof_defer_never", False), ("spof_defer_never_soft", True)):
    with DAG(dag_id, schedule=None, start_date=START):
        UpstreamAvailabilitySensor(
            task_id="wait",
            targets=[tcp(HOST, port("NEVER"), name="never-port")],
            deferrable=True,
            poke_interval=0.5,
            timeout=8,
            soft_fail=soft_fail,
        )

with DAG("spof_reschedule", schedule=None, start_date=START):
    UpstreamAvailabilitySensor(
        task_id="wait",
        targets=[tcp(HOST, port("RESCHEDULE"), name="reschedule-port")],
        mode="reschedule",
        poke_interval=1,
        timeout=300,
    )
