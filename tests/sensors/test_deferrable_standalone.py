"""The deferrable sensor under a real triggerer (``airflow standalone``), not ``dag.test()``.

``dag.test()`` runs triggers inline and drops defer kwargs, so it cannot show
that the sensor gives up its worker slot, that the trigger survives
serialisation, or how the scheduler resumes it. One deployment serves the
whole module (each start costs 15-30 s here).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_spof.core.state import StateStore
from airflow_spof.testing.postgres import PostgresCluster
from airflow_spof.testing.standalone import AirflowStandalone
from airflow_spof.testing.waiting import free_port, wait_until

DAGS = Path(__file__).resolve().parent / "standalone_dags"


@dataclass
class Stack:
    airflow: AirflowStandalone
    store: StateStore
    pg: PostgresCluster
    ports: dict[str, int]

    def run(self, dag_id: str) -> str:
        self.airflow.wait_until_dag_parsed(dag_id)
        self.airflow.unpause(dag_id)
        return self.airflow.trigger(dag_id)

    def health(self, name: str) -> Any:
        return self.store.health_of([name]).get(name)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Airflow with a triggerer, a stopped PostgreSQL cluster and ports nobody listens on."""
    state_url = f"sqlite:///{tmp_path_factory.mktemp('spof-state') / 'state.db'}"
    pg = PostgresCluster().init()  # initialised, not started: the upstream is down
    ports = {name: free_port() for name in ("LATE", "NEVER", "RESCHEDULE")}
    env = {f"SPOF_TEST_{name}_PORT": str(port) for name, port in ports.items()}
    env["SPOF_TEST_PG_URL"] = pg.url
    env["AIRFLOW__SPOF__STATE_STORE_URL"] = state_url
    store = StateStore.from_url(state_url)
    try:
        with AirflowStandalone(DAGS, env=env) as airflow:
            yield Stack(airflow, store, pg, ports)
    finally:
        store.dispose()
        pg.destroy()


def test_deferred_sensor_succeeds_when_the_upstreams_come_back(
    stack: Stack, listener_factory: Any
) -> None:
    af = stack.airflow
    run_id = stack.run("spof_defer_recovers")
    ti = af.wait_for_task("spof_defer_recovers", run_id, "wait", {"deferred"}, timeout=90)
    assert ti["state"] == "deferred"
    wait_until(lambda: stack.health("late-db"), timeout=30, what="late-db probed")
    assert not stack.health("late-port").healthy
    assert not stack.health("late-db").healthy

    listener_factory(port=stack.ports["LATE"]).start()
    stack.pg.start()

    af.wait_for_run("spof_defer_recovers", run_id, {"success"}, timeout=90)
    assert af.xcom("spof_defer_recovers", run_id, "wait") == ["late-port", "late-db"]
    assert stack.health("late-port").healthy
    assert stack.health("late-db").healthy


@pytest.mark.parametrize(
    ("dag_id", "task_state", "run_state"),
    [("spof_defer_never", "failed", "failed"), ("spof_defer_never_soft", "skipped", "success")],
)
def test_deferred_sensor_times_out_when_the_upstream_never_returns(
    stack: Stack, dag_id: str, task_state: str, run_state: str
) -> None:
    af = stack.airflow
    run_id = stack.run(dag_id)
    assert af.wait_for_task(dag_id, run_id, "wait", {"deferred"}, timeout=90)["state"] == "deferred"
    af.wait_for_run(dag_id, run_id, {run_state}, timeout=90)
    assert af.task_instance(dag_id, run_id, "wait")["state"] == task_state
    log = af.task_log(dag_id, run_id, "wait")
    assert "upstreams not available after 8s" in log
    assert "never-port (ConnectionRefusedError" in log


def test_reschedule_mode_frees_the_slot_between_pokes(stack: Stack, listener_factory: Any) -> None:
    af = stack.airflow
    run_id = stack.run("spof_reschedule")
    ti = af.wait_for_task("spof_reschedule", run_id, "wait", {"up_for_reschedule"}, timeout=90)
    assert ti["state"] == "up_for_reschedule"
    listener_factory(port=stack.ports["RESCHEDULE"]).start()
    af.wait_for_run("spof_reschedule", run_id, {"success"}, timeout=90)
    assert af.xcom("spof_reschedule", run_id, "wait") == ["reschedule-port"]
