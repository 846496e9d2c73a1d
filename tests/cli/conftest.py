"""The example world for CLI tests: two moto S3 regions, an NFS directory, SQLite warehouses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_spof.testing.environment import ExampleEnvironment

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = REPO / "dags"


@pytest.fixture(scope="session")
def cli_world(airflow_db: None) -> Iterator[ExampleEnvironment]:
    with ExampleEnvironment() as env:
        yield env


@pytest.fixture
def world(cli_world: ExampleEnvironment) -> Iterator[ExampleEnvironment]:
    """The session's world with every region running at the start and the end of a test."""
    for region in cli_world.regions.values():
        if not region.running:
            region.restart()
    cli_world.create_buckets()
    yield cli_world
    for region in cli_world.regions.values():
        if not region.running:
            region.restart()
    cli_world.create_buckets()


@pytest.fixture
def spof(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, Any, str]]:
    """Run ``airflow-spof ARGS`` in this process: (exit code, parsed --json output, stderr)."""
    from airflow_spof.cli import main

    def run(*args: str) -> tuple[int, Any, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, (_last_json(out) if "--json" in args and out.strip() else out), err

    return run


def _last_json(out: str) -> Any:
    """The command's JSON document; Airflow's in-process logging may precede it on stdout."""
    lines = out.splitlines()
    start = max(i for i, line in enumerate(lines) if line in ("{", "["))
    return json.loads("\n".join(lines[start:]))
