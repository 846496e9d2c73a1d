"""A real two-worker Celery deployment: shared breakers, and what a dead worker strands.

Worker A consumes ``default,qa``, worker B ``default,qb``: ``qa``/``qb`` pin a
task to one worker, ``default`` lets either run it. Everything is asserted
from the REST API (task-instance ``hostname``, XCom) and the shared state
store, the way an operator of such a deployment would look.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from airflow_spof import s3
from airflow_spof.core.breaker import BreakerState, CircuitBreakers
from airflow_spof.core.reports import FailoverReport
from airflow_spof.core.state import StateStore
from airflow_spof.testing.celery_stack import CeleryStack
from airflow_spof.testing.environment import ExampleEnvironment
from airflow_spof.testing.waiting import wait_until

from .conftest import DAGS, RESULTS

pytestmark = [pytest.mark.distributed, pytest.mark.timeout(1800)]

USE1 = s3("aws_use1", bucket="orders-landing-use1", region="us-east-1").name
EUW1 = s3("aws_euw1", bucket="orders-landing-euw1", region="eu-west-1").name
WAITING = {"queued", "scheduled"}
LINT_CONFIG = """\
[tool.airflow-spof.lint.queues]
default = 2
qa = 1
qb = 1
"""


def _placements(stack: CeleryStack, dag_id: str, run_id: str) -> dict[str, dict[str, object]]:
    return {
        ti["task_id"]: {
            "worker": ti["hostname"],
            "state": ti["state"],
            "duration_s": round(ti["duration"], 2) if ti.get("duration") else None,
        }
        for ti in stack.task_instances(dag_id, run_id)
    }


def test_breaker_opened_on_one_worker_is_honoured_on_the_other(
    stack: CeleryStack, example_env: ExampleEnvironment
) -> None:
    dag_id = "spof_shared_breaker"
    example_env.land_orders("2024-01-01")
    example_env.regions["us-east-1"].kill()
    stack.wait_until_dag_parsed(dag_id, timeout=300)
    stack.unpause(dag_id)

    began = time.monotonic()
    run_id = stack.trigger(dag_id)
    stack.wait_for_run(dag_id, run_id, {"success"}, timeout=600)
    elapsed = time.monotonic() - began

    placements = _placements(stack, dag_id, run_id)
    assert placements["first_read"]["worker"] == "worker-a"
    assert placements["second_read"]["worker"] == "worker-b"

    first = FailoverReport.from_dict(stack.xcom(dag_id, run_id, "first_read")["failover"])
    second = FailoverReport.from_dict(stack.xcom(dag_id, run_id, "second_read")["failover"])
    assert first.served_by == EUW1 and second.served_by == EUW1
    assert first.attempts_at(USE1), "worker A never tried the dead region"
    assert all(a.outcome == "failed" for a in first.attempts_at(USE1))
    # Worker B learned from worker A's failure: not one real attempt at us-east-1.
    assert second.attempts_at(USE1) == []
    at_use1 = [a for a in second.attempts if a.endpoint == USE1]
    assert [(a.outcome, a.message) for a in at_use1] == [("skipped", "circuit breaker open")]

    store = StateStore.from_url(stack.state_store_url)
    try:
        status = CircuitBreakers(store).statuses([USE1])[USE1]
    finally:
        store.dispose()
    assert status.state is BreakerState.OPEN

    RESULTS["shared_breaker"] = {
        "run_s": round(elapsed, 1),
        "tasks": placements,
        "first_read_attempts_at_use1": len(first.attempts_at(USE1)),
        "second_read_attempts_at_use1": len(second.attempts_at(USE1)),
        "second_read_elapsed_ms": second.elapsed_ms,
        "first_read_elapsed_ms": first.elapsed_ms,
    }


def test_dead_worker_strands_only_the_task_pinned_to_its_queue(
    stack: CeleryStack, tmp_path: Path
) -> None:
    dag_id = "spof_worker_loss"
    release = tmp_path / "release"
    stack.wait_until_dag_parsed(dag_id, timeout=300)
    stack.unpause(dag_id)

    began = time.monotonic()
    run_id = stack.trigger(dag_id, conf={"release_file": str(release)})
    # Mid-run, with no worker busy: the run waits in the triggerer.
    stack.wait_for_task(dag_id, run_id, "wait_for_release", {"deferred"}, timeout=300)
    kill_s = stack.kill_worker("worker-b")
    release.write_text("go")

    for task_id in ("work_1", "work_2"):
        stack.wait_for_task(dag_id, run_id, task_id, {"success"}, timeout=600)
    others_done = time.monotonic() - began
    assert stack.task_instance(dag_id, run_id, "pinned_qb")["state"] in WAITING
    # Observe a window: the pinned task must not leave the queue while nothing consumes qb.
    window = 20.0
    with pytest.raises(TimeoutError):
        wait_until(
            lambda: stack.task_instance(dag_id, run_id, "pinned_qb")["state"] not in WAITING,
            timeout=window,
            interval=1.0,
            what="pinned_qb to leave the queue",
        )
    stranded = _placements(stack, dag_id, run_id)
    assert stranded["work_1"]["worker"] == stranded["work_2"]["worker"] == "worker-a"
    assert stranded["wait_for_release"]["state"] == "success"

    flagged = _spf201(tmp_path, DAGS / "spof_worker_loss.py")
    assert flagged == [("spof_worker_loss", "pinned_qb")]

    # The queue, not the task, was the problem: a qb worker coming back drains it.
    restarted = time.monotonic()
    stack.start_worker("worker-b")
    stack.wait_for_run(dag_id, run_id, {"success"}, timeout=600)
    recovered_s = time.monotonic() - restarted
    final = _placements(stack, dag_id, run_id)
    assert final["pinned_qb"]["worker"] == "worker-b"

    RESULTS["worker_loss"] = {
        "kill_worker_b_s": round(kill_s, 2),
        "others_done_after_trigger_s": round(others_done, 1),
        "pinned_qb_still_queued_window_s": window,
        "pinned_qb_done_after_restart_s": round(recovered_s, 1),
        "tasks_while_b_dead": stranded,
        "tasks_final": final,
        "spf201": [task for _, task in flagged],
    }


def _spf201(tmp_path: Path, dag_file: Path) -> list[tuple[str, str]]:
    """Run the real linter CLI with a config saying qa and qb each have one worker."""
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.airflow-spof.lint]\n" + LINT_CONFIG)
    command = [sys.executable, "-m", "airflow_spof.cli", "lint", str(dag_file)]
    done = subprocess.run(
        [*command, "--config", str(config), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    findings = json.loads(done.stdout)
    return [(f["dag_id"], f["task_id"]) for f in findings if f["code"] == "SPF201"]
