"""A quality gate that cannot be built is a DAG error, not bad data or a sick endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from airflow_spof.core.endpoints import Replicas, fs, sql
from airflow_spof.core.failover import AllEndpointsFailed, PermanentFailure
from airflow_spof.core.state import StateStore
from airflow_spof.hooks.replicated import ReplicatedHook
from airflow_spof.quality import QualityGate, rows_frame


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


@pytest.fixture
def empty_tables(tmp_path: Path, store: StateStore) -> ReplicatedHook:
    """Two SQLite replicas of an ``orders`` table that has no rows yet."""
    endpoints = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE orders (id int primary key, amount int)")
        engine.dispose()
        endpoints.append(sql(url, table="orders", key="id", region=name, name=name))
    return ReplicatedHook(Replicas(*endpoints), store=store, event_context={})


@pytest.mark.parametrize(
    ("expectation", "accepted"),
    [
        ({"type": "expect_column_to_exist", "kwargs": {"column": "amount"}}, True),
        ({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}, True),
        ({"type": "expect_column_to_exist", "kwargs": {"column": "total"}}, False),
        ({"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}, False),
    ],
    ids=["column-exists", "not-null", "missing-column", "row-count-min"],
)
def test_an_empty_result_is_judged_as_an_empty_table_with_its_columns(
    empty_tables: ReplicatedHook, expectation: dict[str, Any], accepted: bool
) -> None:
    """No rows is not no columns: the query's columns reach the gate (as the SQL operators
    pass them), so only an expectation an empty table fails rejects the sources."""
    gate = QualityGate([expectation])

    def validator(rows: Any) -> dict[str, Any]:
        return gate.validate(rows_frame(rows, rows.columns))

    if accepted:
        rows, report = empty_tables.query("SELECT id, amount FROM {table}", validator=validator)
        assert (rows, rows.columns, report.served_by) == ([], ("id", "amount"), "a")
    else:
        with pytest.raises(AllEndpointsFailed, match=expectation["type"]):
            empty_tables.query("SELECT id, amount FROM {table}", validator=validator)
