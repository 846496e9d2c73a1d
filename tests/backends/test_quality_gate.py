"""A quality gate that cannot be built is a DAG error, not bad data or a sick endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_spof.core.endpoints import Replicas, fs
from airflow_spof.core.failover import PermanentFailure
from airflow_spof.core.state import StateStore
from airflow_spof.hooks.replicated import ReplicatedHook
from airflow_spof.quality import QualityGate


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    s = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.dispose()


def test_a_misspelt_expectation_fails_fast_and_blames_no_endpoint(
    tmp_path: Path, store: StateStore
) -> None:
    import pandas as pd

    replicas = Replicas(
        fs(str(tmp_path / "a"), name="a"),
        fs(str(tmp_path / "b"), name="b"),
        write_consistency="all",
    )
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    hook = ReplicatedHook(replicas, store=store, event_context={})
    hook.write("k.csv", b"id\n1\n")
    gate = QualityGate([{"type": "expect_column_values_to_not_be_nul", "kwargs": {"column": "id"}}])

    with pytest.raises(PermanentFailure, match="expect_column_values_to_not_be_nul"):
        hook.read("k.csv", validator=lambda data: gate.validate(pd.DataFrame({"id": [1]})))

    assert all(s.consecutive_failures == 0 for s in hook.breakers.all_statuses())
