"""One real CeleryExecutor deployment (two workers) shared by the distributed tests.

PostgreSQL (metadata + spof state), Redis, api-server, scheduler, dag-processor,
triggerer and two Celery workers, plus two moto S3 regions, all started here
and all stopped at the end; teardown checks with pgrep that no process of the
stack outlived it. Timings and placements land in the terminal summary.

The run takes ~3.5 min and needs Redis (``apt-get install -y redis-server``,
done by ``.ci/run``) and the ``celery`` extra (in ``dev``). It is part of
``make test``; ``make test-distributed`` runs it alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_spof.testing.celery_stack import CeleryStack
from airflow_spof.testing.environment import ExampleEnvironment

DAGS = Path(__file__).parent / "dags"
RESULTS: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "distributed: starts a multi-worker Celery deployment (~4 min)"
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if RESULTS:
        terminalreporter.section("distributed run")
        terminalreporter.write_line(json.dumps(RESULTS, indent=2, sort_keys=True))


@pytest.fixture(scope="package")
def example_env() -> Iterator[ExampleEnvironment]:
    """Two S3 regions with the example DAGs' buckets, and the on-prem directory."""
    environment = ExampleEnvironment().start()
    try:
        yield environment
    finally:
        environment.stop()


@pytest.fixture(scope="package")
def stack(example_env: ExampleEnvironment) -> Iterator[CeleryStack]:
    env = {
        **example_env.env,
        "AIRFLOW_CONN_FS_ROOT": json.dumps({"conn_type": "fs", "extra": {"path": "/"}}),
        # One failure opens a breaker, and it stays open for the whole test.
        "AIRFLOW__SPOF__BREAKER_FAILURE_THRESHOLD": "1",
        "AIRFLOW__SPOF__BREAKER_COOLDOWN": "1800",
    }
    celery_stack = CeleryStack(DAGS, env=env)
    began = time.monotonic()
    celery_stack.start()
    RESULTS["startup_s"] = round(time.monotonic() - began, 1)
    RESULTS["db_migrate_s"] = round(celery_stack.timings["migrate_s"], 1)
    try:
        yield celery_stack
    finally:
        celery_stack.stop()
        left = celery_stack.leftovers()
        assert not left, f"processes of the Celery stack outlived it: {left}"
