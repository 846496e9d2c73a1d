"""on_degraded callbacks that fail."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_spof.testing.dagrun import run_dag

DAY = datetime(2026, 11, 27, tzinfo=timezone.utc)


@pytest.fixture
def nfs(env) -> Path:
    root = Path(env.nfs_root)
    for name in ("pair-a", "pair-b"):
        shutil.rmtree(root / name, ignore_errors=True)
        (root / name).mkdir()
    return root


def test_a_failing_degraded_callback_does_not_fail_a_write_that_reached_w(nfs, cases) -> None:
    """The write reached its consistency; a notifier that raises must not turn it into a
    failed task with no report and no asset events (and a retry that writes again)."""
    result = run_dag(cases.get_dag("spof_degraded_callback_fails"), DAY, faults=["pair_b=down"])
    assert result.succeeded, result.task_states
    assert result.xcoms["write_degraded"]["replication"]["lagging"] == ["pair_b"]
    assert [e.uri for e in result.events_of("write_degraded")] == [f"file://{nfs}/pair-a/k.txt"]
